package dev.berth.eventstore.sample;

import dev.berth.events.EventEnvelope;
import dev.berth.eventstore.IdempotentConsumer;
import dev.berth.eventstore.KafkaEvents;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/** A consumer as a service writes one: CloudEvents from Kafka, applied once per event id. */
@ApplicationScoped
public class VolumeTopicConsumer {
    private final IdempotentConsumer consumer;

    public VolumeTopicConsumer(IdempotentConsumer consumer) {
        this.consumer = consumer;
    }

    @Incoming("volumes-in")
    public Uni<Void> on(ConsumerRecord<String, byte[]> record) {
        EventEnvelope event = KafkaEvents.envelope(record);
        return consumer.processOnce("volumes-in", event, (session, e) -> session
                        .createNativeQuery("INSERT INTO test_incoming_effects (event_id, source, aggregate_id, version)"
                                + " VALUES (?1, ?2, ?3, ?4)")
                        .setParameter(1, e.id()).setParameter(2, e.source()).setParameter(3, e.subject())
                        .setParameter(4, e.sequence())
                        .executeUpdate())
                .replaceWithVoid();
    }
}
