package dev.berth.image.projection;

import dev.berth.eventstore.Projection;
import dev.berth.eventstore.StoredEvent;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

/**
 * Keeps {@code image_view} equal to the fold of the image events. The image aggregate (pull, load, build, tag,
 * remove) is not written yet, so no event changes the view and it stays empty; replay resets it like any other.
 */
@ApplicationScoped
public class ImageProjection implements Projection {

    @Override
    public String name() {
        return "images";
    }

    @Override
    public Uni<Void> apply(Mutiny.Session session, StoredEvent event) {
        return Uni.createFrom().voidItem();
    }

    @Override
    public Uni<Void> reset(Mutiny.Session session) {
        return session.createNativeQuery("delete from image_view").executeUpdate().replaceWithVoid();
    }
}
