package dev.berth.container.api;

import dev.berth.events.EventEnvelope;
import dev.berth.events.Topics;
import dev.berth.eventstore.KafkaEvents;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Instant;
import java.util.Properties;
import java.util.UUID;

/** Publishes image events to berth.images.events as image-service's outbox relay does (CloudEvents binary mode). */
final class ImagePublisher implements AutoCloseable {

    private final KafkaProducer<String, byte[]> producer;

    ImagePublisher(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        producer = new KafkaProducer<>(p);
    }

    /** Sends one event and waits for the broker's acknowledgement; the id is returned (to redeliver it). */
    EventEnvelope send(String tenant, String type, String data) throws Exception {
        EventEnvelope e = new EventEnvelope(UUID.randomUUID().toString(), "/image-service", type, tenant + "/images",
                Instant.now(), tenant, 1, UUID.randomUUID(), null, data);
        send(e);
        return e;
    }

    void send(EventEnvelope e) throws Exception {
        producer.send(KafkaEvents.record(Topics.IMAGES, e)).get();
    }

    @Override
    public void close() {
        producer.close();
    }
}
