package dev.berth.container.domain;

import dev.berth.container.domain.ContainerCommand.CreateContainer;
import dev.berth.container.domain.ContainerCommand.RemoveContainer;
import dev.berth.container.domain.ContainerCommand.RenameContainer;
import dev.berth.container.domain.ContainerEvent.ContainerCreated;
import dev.berth.container.domain.ContainerEvent.ContainerRemoved;
import dev.berth.container.domain.ContainerEvent.ContainerRenamed;
import dev.berth.events.Decider;
import dev.berth.events.DomainException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The aggregate of one tenant's containers. One aggregate per tenant because container names are unique per tenant
 * and a create or rename must check that atomically; the event store's version check makes concurrent creates of
 * one name end with one winner and a 409 for the other.
 */
public final class ContainerDecider implements Decider<ContainerCommand, Containers, ContainerEvent> {

    @Override
    public Containers initialState() {
        return Containers.NONE;
    }

    @Override
    public List<ContainerEvent> decide(ContainerCommand command, Containers state) {
        if (command instanceof CreateContainer c) {
            return create(c, state);
        }
        if (command instanceof RenameContainer r) {
            return rename(r, state);
        }
        String id = state.resolve(((RemoveContainer) command).reference());
        return List.of(new ContainerRemoved(id, state.namesById().get(id)));
    }

    private List<ContainerEvent> create(CreateContainer c, Containers state) {
        if (state.namesById().containsKey(c.id())) {
            throw DomainException.conflict("container id " + c.id() + " is already in use");
        }
        String name;
        if (c.name() != null) {
            name = Names.validate(c.name());
            checkFree(state, name);
        } else {
            name = c.generatedNames().stream().filter(n -> state.idOfName(n) == null).findFirst()
                    .orElseThrow(() -> new DomainException(500, "could not generate a free container name"));
        }
        return List.of(new ContainerCreated(c.id(), name, c.spec(), c.now()));
    }

    private List<ContainerEvent> rename(RenameContainer r, Containers state) {
        if (r.newName() == null || r.newName().isEmpty()) {
            throw DomainException.badRequest("Neither old nor new names may be empty");
        }
        String id = state.resolve(r.reference());
        String newName = Names.validate(r.newName());
        String oldName = state.namesById().get(id);
        if (oldName.equals(newName)) {
            throw DomainException.badRequest("Renaming a container with the same name as its current name");
        }
        checkFree(state, newName);
        return List.of(new ContainerRenamed(id, oldName, newName));
    }

    private static void checkFree(Containers state, String name) {
        String holder = state.idOfName(name);
        if (holder != null) {
            throw DomainException.conflict("Conflict. The container name \"/" + name
                    + "\" is already in use by container \"" + holder
                    + "\". You have to remove (or rename) that container to be able to reuse that name.");
        }
    }

    @Override
    public Containers evolve(Containers state, ContainerEvent event) {
        Map<String, String> names = new LinkedHashMap<>(state.namesById());
        if (event instanceof ContainerCreated c) {
            names.put(c.containerId(), c.name());
        } else if (event instanceof ContainerRenamed r) {
            names.put(r.containerId(), r.newName());
        } else {
            names.remove(event.containerId());
        }
        return new Containers(Map.copyOf(names));
    }
}
