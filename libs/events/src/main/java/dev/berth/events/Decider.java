package dev.berth.events;

import java.util.List;

/**
 * An aggregate as a decider: {@code decide(command, state) -> events}, {@code evolve(state, event) -> state}.
 * Implementations are pure Java (no framework, no I/O) and unit-tested given/when/then.
 *
 * @param <C> command type
 * @param <S> state type (immutable)
 * @param <E> event type (records under a sealed interface)
 */
public interface Decider<C, S, E> {

    /** The state of an aggregate that has no events yet. */
    S initialState();

    /**
     * The events a command produces in a state. A command that is invalid in this state throws
     * {@link DomainException} (its status tells the API which HTTP code to answer); an empty list means "nothing to do".
     */
    List<E> decide(C command, S state);

    /** The state after an event. Never fails: events are facts. */
    S evolve(S state, E event);

    /** Folds events into a state. */
    default S fold(Iterable<? extends E> events) {
        S s = initialState();
        for (E e : events) {
            s = evolve(s, e);
        }
        return s;
    }
}
