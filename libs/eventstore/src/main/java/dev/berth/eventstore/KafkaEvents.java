package dev.berth.eventstore;

import dev.berth.events.CloudEventHeaders;
import dev.berth.events.EventEnvelope;
import dev.berth.events.Topics;
import io.smallrye.reactive.messaging.kafka.api.IncomingKafkaRecordMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.eclipse.microprofile.reactive.messaging.Message;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CloudEvents binary mode on Kafka records: envelopes from consumed records, records from envelopes and stored events.
 */
public final class KafkaEvents {
    private KafkaEvents() {
    }

    /** The envelope of a consumed record whose value is a String or byte[] (JSON). */
    public static EventEnvelope envelope(ConsumerRecord<String, ?> record) {
        return CloudEventHeaders.fromRecord(headers(record.headers()), record.key(), bytes(record.value()));
    }

    /**
     * The envelope of a SmallRye Reactive Messaging Kafka message (an {@code @Incoming} method's parameter).
     *
     * @throws IllegalArgumentException if the message did not come from Kafka or is not a CloudEvent
     */
    public static EventEnvelope envelope(Message<?> message) {
        IncomingKafkaRecordMetadata<?, ?> metadata = message.getMetadata(IncomingKafkaRecordMetadata.class)
                .orElseThrow(() -> new IllegalArgumentException("message did not come from Kafka"));
        Object key = metadata.getKey();
        return CloudEventHeaders.fromRecord(headers(metadata.getHeaders()), key == null ? null : key.toString(),
                bytes(message.getPayload()));
    }

    /** The envelope of a stored event published by the service named {@code source} (without the slash). */
    public static EventEnvelope envelope(StoredEvent e, String source) {
        return new EventEnvelope(e.id().toString(), source.startsWith("/") ? source : "/" + source, e.type(),
                e.aggregateId(), e.time(), e.tenant(), e.version(), e.correlationId(), e.causationId(), e.data());
    }

    /** A record for a topic in binary mode, keyed by the envelope's subject. */
    public static ProducerRecord<String, byte[]> record(String topic, EventEnvelope e) {
        ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, e.subject(), CloudEventHeaders.toValue(e));
        CloudEventHeaders.toHeaders(e).forEach((name, value) -> record.headers().add(name, value));
        return record;
    }

    /** The record of a stored event on its aggregate type's topic. */
    public static ProducerRecord<String, byte[]> record(StoredEvent e, String source) {
        return record(Topics.forAggregateType(e.aggregateType()), envelope(e, source));
    }

    private static Map<String, byte[]> headers(Headers headers) {
        Map<String, byte[]> map = new LinkedHashMap<>();
        for (Header h : headers) {
            map.put(h.key(), h.value());
        }
        return map;
    }

    private static byte[] bytes(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof byte[] b) {
            return b;
        }
        if (value instanceof String s) {
            return s.getBytes(StandardCharsets.UTF_8);
        }
        if (value instanceof io.vertx.core.buffer.Buffer b) {
            return b.getBytes();
        }
        throw new IllegalArgumentException("cannot read a CloudEvent from a " + value.getClass().getName()
                + " payload; consume the topic as String or byte[]");
    }
}
