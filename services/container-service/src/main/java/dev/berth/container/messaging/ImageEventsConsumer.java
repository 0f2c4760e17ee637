package dev.berth.container.messaging;

import dev.berth.container.projection.ImageCatalog;
import dev.berth.events.EventEnvelope;
import dev.berth.eventstore.IdempotentConsumer;
import dev.berth.eventstore.KafkaEvents;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/** Feeds {@link ImageCatalog} from {@code berth.images.events}, each event once (a redelivery changes nothing). */
@ApplicationScoped
public class ImageEventsConsumer {

    static final String CONSUMER = "container-service.images";

    private final IdempotentConsumer consumer;
    private final ImageCatalog images;

    public ImageEventsConsumer(IdempotentConsumer consumer, ImageCatalog images) {
        this.consumer = consumer;
        this.images = images;
    }

    @Incoming("images-in")
    public Uni<Void> on(ConsumerRecord<String, byte[]> record) {
        EventEnvelope event = KafkaEvents.envelope(record);
        return consumer.processOnce(CONSUMER, event, images::apply).replaceWithVoid();
    }
}
