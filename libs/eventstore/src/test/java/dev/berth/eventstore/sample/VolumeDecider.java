package dev.berth.eventstore.sample;

import dev.berth.events.Decider;
import dev.berth.events.DomainException;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A small volume-like aggregate to exercise the event store. */
public final class VolumeDecider implements Decider<VolumeCommand, VolumeDecider.State, VolumeEvent> {
    public static final VolumeDecider INSTANCE = new VolumeDecider();

    public record State(boolean exists, String name, Map<String, String> labels) {
    }

    @Override
    public State initialState() {
        return new State(false, null, Map.of());
    }

    @Override
    public List<VolumeEvent> decide(VolumeCommand command, State state) {
        if (command instanceof VolumeCommand.Create c) {
            if (state.exists()) {
                throw DomainException.conflict("volume " + state.name() + " already exists");
            }
            return List.of(new VolumeEvent.Created(c.name(), c.labels()));
        }
        if (!state.exists()) {
            throw DomainException.notFound("no such volume");
        }
        if (command instanceof VolumeCommand.Label l) {
            return l.value().equals(state.labels().get(l.key())) ? List.of()
                    : List.of(new VolumeEvent.Labelled(l.key(), l.value()));
        }
        return List.of(new VolumeEvent.Removed());
    }

    @Override
    public State evolve(State state, VolumeEvent event) {
        if (event instanceof VolumeEvent.Created c) {
            return new State(true, c.name(), c.labels() == null ? Map.of() : c.labels());
        }
        if (event instanceof VolumeEvent.Labelled l) {
            Map<String, String> labels = new HashMap<>(state.labels());
            labels.put(l.key(), l.value());
            return new State(true, state.name(), Map.copyOf(labels));
        }
        return initialState();
    }
}
