package dev.berth.gateway.support;

import dev.berth.events.CloudEventHeaders;
import dev.berth.events.EventEnvelope;
import dev.berth.testing.KafkaBroker;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Publishes events as the outbox relay does: a transactional, idempotent producer (acks=all), records in binary
 * CloudEvents mode (CloudEventHeaders), keyed by the aggregate id, one transaction per batch.
 */
public final class EventPublisher implements AutoCloseable {

    private static final AtomicLong SEQUENCE = new AtomicLong();
    private final KafkaProducer<String, byte[]> producer;

    public EventPublisher() {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaBroker.shared().bootstrapServers());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "berth-gateway-test-" + UUID.randomUUID());
        producer = new KafkaProducer<>(config);
        producer.initTransactions();
    }

    /** An envelope of a service's aggregate (subject {@code <tenant>/<family>} or the given one). */
    public static EventEnvelope envelope(String source, String type, String subject, String tenant, Instant time, String data) {
        return new EventEnvelope(UUID.randomUUID().toString(), source, type, subject, time, tenant,
                SEQUENCE.incrementAndGet(), UUID.randomUUID(), null, data);
    }

    /** Sends the envelopes to the topic in one committed transaction. */
    public void publish(String topic, List<EventEnvelope> events) {
        producer.beginTransaction();
        for (EventEnvelope e : events) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, e.subject(), CloudEventHeaders.toValue(e));
            CloudEventHeaders.toHeaders(e).forEach((name, value) -> record.headers().add(name, value));
            producer.send(record);
        }
        producer.commitTransaction();
    }

    /** Sends the envelopes in a transaction that is then aborted: read_committed readers must never see them. */
    public void publishAborted(String topic, List<EventEnvelope> events) {
        producer.beginTransaction();
        for (EventEnvelope e : events) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, e.subject(), CloudEventHeaders.toValue(e));
            CloudEventHeaders.toHeaders(e).forEach((name, value) -> record.headers().add(name, value));
            producer.send(record);
        }
        producer.flush();
        producer.abortTransaction();
    }

    @Override
    public void close() {
        producer.close();
    }
}
