package dev.berth.image.messaging;

import dev.berth.events.EventEnvelope;
import dev.berth.eventstore.IdempotentConsumer;
import dev.berth.eventstore.KafkaEvents;
import dev.berth.image.projection.ImageUsers;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Feeds {@link ImageUsers} from {@code berth.containers.events}, each event once (a redelivery changes nothing). A
 * failure is not acknowledged: the channel stops and health turns down, rather than losing a container's use of an
 * image and letting {@code docker rmi} remove an image a container needs.
 */
@ApplicationScoped
public class ContainerEventsConsumer {

    static final String CONSUMER = "image-service.containers";

    private final IdempotentConsumer consumer;
    private final ImageUsers users;

    public ContainerEventsConsumer(IdempotentConsumer consumer, ImageUsers users) {
        this.consumer = consumer;
        this.users = users;
    }

    @Incoming("containers-in")
    public Uni<Void> on(ConsumerRecord<String, byte[]> record) {
        EventEnvelope event = KafkaEvents.envelope(record);
        if (ImageUsers.change(event) == null) {
            // most container events change nothing here: no processed_messages row for them
            return Uni.createFrom().voidItem();
        }
        return consumer.processOnce(CONSUMER, event, users::apply).replaceWithVoid();
    }
}
