package dev.berth.container.projection;

import dev.berth.eventstore.Projection;
import dev.berth.eventstore.StoredEvent;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

/**
 * Keeps {@code container_view} equal to the fold of the container events. The container aggregate (create, start,
 * stop, remove...) is not written yet, so no event changes the view and it stays empty; replay resets it like any
 * other.
 */
@ApplicationScoped
public class ContainerProjection implements Projection {

    @Override
    public String name() {
        return "containers";
    }

    @Override
    public Uni<Void> apply(Mutiny.Session session, StoredEvent event) {
        return Uni.createFrom().voidItem();
    }

    @Override
    public Uni<Void> reset(Mutiny.Session session) {
        return session.createNativeQuery("delete from container_view").executeUpdate().replaceWithVoid();
    }
}
