package dev.berth.eventstore;

import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import org.hibernate.reactive.mutiny.Mutiny;

import java.util.Comparator;
import java.util.List;
import java.util.stream.StreamSupport;

/** Every {@link Projection} bean of the service, applied in name order so that live and replayed runs agree. */
@ApplicationScoped
public class Projections {
    private final List<Projection> all;

    public Projections(@Any Instance<Projection> projections) {
        this.all = StreamSupport.stream(projections.spliterator(), false)
                .sorted(Comparator.comparing(Projection::name))
                .toList();
    }

    /** The projections, in the order they are applied. */
    public List<Projection> all() {
        return all;
    }

    /** Applies every projection to the events, event by event, in the caller's session. */
    public Uni<Void> apply(Mutiny.Session session, List<StoredEvent> events) {
        Uni<Void> chain = Uni.createFrom().voidItem();
        for (StoredEvent event : events) {
            for (Projection projection : all) {
                chain = chain.chain(() -> projection.apply(session, event));
            }
        }
        return chain;
    }

    /** Resets every projection in the caller's session. */
    public Uni<Void> reset(Mutiny.Session session) {
        Uni<Void> chain = Uni.createFrom().voidItem();
        for (Projection projection : all) {
            chain = chain.chain(() -> projection.reset(session));
        }
        return chain;
    }
}
