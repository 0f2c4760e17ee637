package dev.berth.eventstore;

import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;
import org.jboss.logging.Logger;

import java.util.List;

/**
 * Rebuilds every read model from the service's own log: in one transaction, resets every {@link Projection} and
 * re-applies all events in position order. Readers see the old read model until it commits; a failure rolls it all
 * back and leaves the live read model as it was.
 */
@ApplicationScoped
public class Replayer {
    private static final Logger LOG = Logger.getLogger(Replayer.class);
    private static final int PAGE = 500;

    private final Mutiny.SessionFactory sessions;
    private final EventStore store;
    private final Projections projections;
    private final Vertx vertx;

    public Replayer(Mutiny.SessionFactory sessions, EventStore store, Projections projections, Vertx vertx) {
        this.sessions = sessions;
        this.store = store;
        this.projections = projections;
        this.vertx = vertx;
    }

    /** Rebuilds every projection; the item is the number of events re-applied. */
    public Uni<Long> rebuild() {
        return ReactiveContext.run(vertx, () -> sessions.withTransaction(session ->
                        projections.reset(session).chain(() -> replayFrom(session, 0L, 0L))))
                .invoke(count -> LOG.infof("replayed %d events into %s", count,
                        projections.all().stream().map(Projection::name).toList()));
    }

    private Uni<Long> replayFrom(Mutiny.Session session, long afterPosition, long applied) {
        return store.readAfter(session, afterPosition, PAGE).flatMap(page -> {
            if (page.isEmpty()) {
                return Uni.createFrom().item(applied);
            }
            List<StoredEvent> events = page;
            long last = events.get(events.size() - 1).position();
            return projections.apply(session, events)
                    .chain(() -> replayFrom(session, last, applied + events.size()));
        });
    }
}
