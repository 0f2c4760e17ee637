package dev.berth.eventstore;

import dev.berth.events.Decider;
import io.smallrye.mutiny.Uni;

import java.util.List;

/**
 * Runs a command against an aggregate: in one transaction it loads the aggregate's events, folds them with the
 * decider, decides, appends the new events at the expected version and applies every {@link Projection} to them.
 * On a {@link ConcurrencyException} it retries from a fresh load (a bounded number of times, then fails with it).
 * A {@link dev.berth.events.DomainException} from the decider fails the Uni and writes nothing.
 */
public interface Aggregates {

    /**
     * @param aggregateType e.g. {@code volume} (decides the topic)
     * @param aggregateId   the aggregate's id
     * @param decider       the aggregate's decider
     * @param eventFamily   the sealed interface of its events; each permitted record carries {@link dev.berth.events.EventType}
     * @param command       the command
     * @param metadata      tenant, correlation and causation
     */
    <C, S, E> Uni<Decision<S, E>> handle(String aggregateType, String aggregateId, Decider<C, S, E> decider,
                                         Class<E> eventFamily, C command, EventMetadata metadata);

    /** Loads and folds an aggregate without writing (null-free: the initial state when it has no events). */
    <C, S, E> Uni<S> load(String aggregateId, Decider<C, S, E> decider, Class<E> eventFamily);

    /**
     * The result of a command.
     *
     * @param state  the state after the new events
     * @param events the new events as records (empty: nothing changed)
     * @param stored the same events as stored
     */
    record Decision<S, E>(S state, List<E> events, List<StoredEvent> stored) {
    }
}
