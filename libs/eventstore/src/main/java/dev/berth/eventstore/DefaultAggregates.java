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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link Aggregates} over the {@link EventStore}, with every {@link Projection} applied in the same transaction.
 *
 * <p>The state of each aggregate is kept in memory with the version it was folded to, and a command reads only the
 * events after that version: an aggregate that lives long (a tenant's images or containers) costs a command its new
 * events, not its whole history. The cache is a pure optimisation and never ahead of the log: a state read is cached
 * as read (its events were committed), a state after an append only once the transaction committed, and only over an
 * older one; events another instance appended are read as any others after the cached version. Deciders' states must
 * therefore be immutable (every {@code evolve} returns a new state), as they are.
 */
@ApplicationScoped
public class DefaultAggregates implements Aggregates {

    /** A state and the version of the last event folded into it. */
    private record Folded(long version, Object state) {
    }

    /** An attempt's decision, with the state and version to cache once it committed. */
    private record Attempt<S, E>(Decision<S, E> decision, long version) {
    }

    private final Map<String, Folded> folded = new ConcurrentHashMap<>();
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
        String key = key(aggregateId, decider);
        return ReactiveContext.run(vertx, () -> sessions.withTransaction(session ->
                        attempt(session, key, aggregateType, aggregateId, decider, codec, command, metadata)))
                .onFailure(ConcurrencyException.class).retry().atMost(conflictRetries)
                // committed: the state after it may serve the next command
                .invoke(a -> remember(key, a.version(), a.decision().state()))
                .map(Attempt::decision);
    }

    private <C, S, E> Uni<Attempt<S, E>> attempt(Mutiny.Session session, String key, String aggregateType,
                                                 String aggregateId, Decider<C, S, E> decider, EventCodec<E> codec,
                                                 C command, EventMetadata metadata) {
        return current(session, key, aggregateId, decider, codec).flatMap(now -> {
            @SuppressWarnings("unchecked")
            S state = (S) now.state();
            List<E> events = decider.decide(command, state);
            if (events == null || events.isEmpty()) {
                return Uni.createFrom().item(new Attempt<>(new Decision<S, E>(state, List.of(), List.of()),
                        now.version()));
            }
            List<NewEvent> news = events.stream().map(e -> new NewEvent(codec.typeOf(e), e)).toList();
            S after = state;
            for (E e : events) {
                after = decider.evolve(after, e);
            }
            S result = after;
            return store.append(session, aggregateType, aggregateId, now.version(), news, metadata)
                    .call(stored -> projections.apply(session, stored))
                    .map(stored -> new Attempt<>(new Decision<>(result, List.copyOf(events), stored),
                            stored.get(stored.size() - 1).version()));
        });
    }

    /** The aggregate's state now: the cached one with the events after it, or the whole history folded. */
    private <C, S, E> Uni<Folded> current(Mutiny.Session session, String key, String aggregateId,
                                          Decider<C, S, E> decider, EventCodec<E> codec) {
        Folded cached = folded.get(key);
        long from = cached == null ? 0 : cached.version();
        return store.loadAfter(session, aggregateId, from).map(history -> {
            @SuppressWarnings("unchecked")
            S state = cached == null ? decider.initialState() : (S) cached.state();
            for (E e : decode(codec, history)) {
                state = decider.evolve(state, e);
            }
            long version = history.isEmpty() ? from : history.get(history.size() - 1).version();
            if (!history.isEmpty()) {
                // what was read is committed: cache it even if the command then appends nothing or fails
                remember(key, version, state);
            }
            return new Folded(version, state);
        });
    }

    private void remember(String key, long version, Object state) {
        folded.merge(key, new Folded(version, state), (old, fresh) -> fresh.version() >= old.version() ? fresh : old);
    }

    private static String key(String aggregateId, Decider<?, ?, ?> decider) {
        return decider.getClass().getName() + "|" + aggregateId;
    }

    @Override
    public <C, S, E> Uni<S> load(String aggregateId, Decider<C, S, E> decider, Class<E> eventFamily) {
        EventCodec<E> codec = EventCodec.of(eventFamily);
        String key = key(aggregateId, decider);
        return ReactiveContext.run(vertx, () -> sessions.withSession(session ->
                current(session, key, aggregateId, decider, codec).map(now -> {
                    @SuppressWarnings("unchecked")
                    S state = (S) now.state();
                    return state;
                })));
    }

    private static <E> List<E> decode(EventCodec<E> codec, List<StoredEvent> history) {
        List<E> events = new ArrayList<>(history.size());
        for (StoredEvent stored : history) {
            events.add(codec.decode(stored.type(), stored.data()));
        }
        return events;
    }
}
