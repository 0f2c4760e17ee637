package dev.berth.eventstore;

import dev.berth.events.Decider;
import dev.berth.events.EventCodec;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.hibernate.reactive.mutiny.Mutiny;

import java.util.ArrayList;
import java.util.List;

/** {@link Aggregates} over the {@link EventStore}, with every {@link Projection} applied in the same transaction. */
@ApplicationScoped
public class DefaultAggregates implements Aggregates {
    private final Mutiny.SessionFactory sessions;
    private final EventStore store;
    private final Projections projections;
    private final Vertx vertx;
    private final int conflictRetries;

    public DefaultAggregates(Mutiny.SessionFactory sessions, EventStore store, Projections projections, Vertx vertx,
                             @ConfigProperty(name = "berth.aggregates.conflict-retries", defaultValue = "5")
                             int conflictRetries) {
        this.sessions = sessions;
        this.store = store;
        this.projections = projections;
        this.vertx = vertx;
        this.conflictRetries = conflictRetries;
    }

    @Override
    public <C, S, E> Uni<Decision<S, E>> handle(String aggregateType, String aggregateId, Decider<C, S, E> decider,
                                                Class<E> eventFamily, C command, EventMetadata metadata) {
        EventCodec<E> codec = EventCodec.of(eventFamily);
        return ReactiveContext.run(vertx, () -> sessions.withTransaction(session ->
                        attempt(session, aggregateType, aggregateId, decider, codec, command, metadata)))
                .onFailure(ConcurrencyException.class).retry().atMost(conflictRetries);
    }

    private <C, S, E> Uni<Decision<S, E>> attempt(Mutiny.Session session, String aggregateType, String aggregateId,
                                                  Decider<C, S, E> decider, EventCodec<E> codec, C command,
                                                  EventMetadata metadata) {
        return store.load(session, aggregateId).flatMap(history -> {
            S state = decider.fold(decode(codec, history));
            List<E> events = decider.decide(command, state);
            if (events == null || events.isEmpty()) {
                return Uni.createFrom().item(new Decision<S, E>(state, List.of(), List.of()));
            }
            long expected = history.isEmpty() ? 0 : history.get(history.size() - 1).version();
            List<NewEvent> news = events.stream().map(e -> new NewEvent(codec.typeOf(e), e)).toList();
            S after = state;
            for (E e : events) {
                after = decider.evolve(after, e);
            }
            S result = after;
            return store.append(session, aggregateType, aggregateId, expected, news, metadata)
                    .call(stored -> projections.apply(session, stored))
                    .map(stored -> new Decision<>(result, List.copyOf(events), stored));
        });
    }

    @Override
    public <C, S, E> Uni<S> load(String aggregateId, Decider<C, S, E> decider, Class<E> eventFamily) {
        EventCodec<E> codec = EventCodec.of(eventFamily);
        return ReactiveContext.run(vertx, () -> sessions.withSession(session -> store.load(session, aggregateId)
                .map(history -> decider.fold(decode(codec, history)))));
    }

    private static <E> List<E> decode(EventCodec<E> codec, List<StoredEvent> history) {
        List<E> events = new ArrayList<>(history.size());
        for (StoredEvent stored : history) {
            events.add(codec.decode(stored.type(), stored.data()));
        }
        return events;
    }
}
