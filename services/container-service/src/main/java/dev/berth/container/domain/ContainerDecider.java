package dev.berth.container.domain;

import dev.berth.container.domain.ContainerCommand.CreateContainer;
import dev.berth.container.domain.ContainerCommand.RecordObservation;
import dev.berth.container.domain.ContainerCommand.RecordRestarted;
import dev.berth.container.domain.ContainerCommand.RecordStopped;
import dev.berth.container.domain.ContainerCommand.RemoveContainer;
import dev.berth.container.domain.ContainerCommand.RenameContainer;
import dev.berth.container.domain.ContainerEvent.ContainerCreated;
import dev.berth.container.domain.ContainerEvent.ContainerDied;
import dev.berth.container.domain.ContainerEvent.ContainerKilled;
import dev.berth.container.domain.ContainerEvent.ContainerPaused;
import dev.berth.container.domain.ContainerEvent.ContainerRemoved;
import dev.berth.container.domain.ContainerEvent.ContainerRenamed;
import dev.berth.container.domain.ContainerEvent.ContainerRestarted;
import dev.berth.container.domain.ContainerEvent.ContainerRestartedByPolicy;
import dev.berth.container.domain.ContainerEvent.ContainerStartFailed;
import dev.berth.container.domain.ContainerEvent.ContainerStarted;
import dev.berth.container.domain.ContainerEvent.ContainerStopped;
import dev.berth.container.domain.ContainerEvent.ContainerUnpaused;
import dev.berth.container.domain.Containers.Entry;
import dev.berth.events.Decider;
import dev.berth.events.DomainException;
import dev.berth.events.node.NodeObservation;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The aggregate of one tenant's containers. One aggregate per tenant because container names are unique per tenant
 * and a create or rename must check that atomically; the event store's version check makes concurrent creates of
 * one name end with one winner and a 409 for the other.
 *
 * <p>The node is the authority on processes: what it observed becomes events here ({@link RecordObservation}),
 * translated per docs/containers.md; an observation that changes nothing (a second report of a running container)
 * yields no event.
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
        if (command instanceof RemoveContainer r) {
            return remove(r, state);
        }
        if (command instanceof RecordObservation o) {
            return observed(o.fact(), state);
        }
        if (command instanceof RecordStopped s) {
            return fact(state, s.id(), (id, e) -> new ContainerStopped(id, e.name(), e.image(), e.labels()));
        }
        RecordRestarted r = (RecordRestarted) command;
        return fact(state, r.id(), (id, e) -> new ContainerRestarted(id, e.name(), e.image(), e.labels()));
    }

    private List<ContainerEvent> create(CreateContainer c, Containers state) {
        if (state.byId().containsKey(c.id())) {
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
        return List.of(new ContainerCreated(c.id(), name, c.spec(), c.now(), c.nodeId()));
    }

    private List<ContainerEvent> rename(RenameContainer r, Containers state) {
        if (r.newName() == null || r.newName().isEmpty()) {
            throw DomainException.badRequest("Neither old nor new names may be empty");
        }
        String id = state.resolve(r.reference());
        String newName = Names.validate(r.newName());
        String oldName = state.byId().get(id).name();
        if (oldName.equals(newName)) {
            throw DomainException.badRequest("Renaming a container with the same name as its current name");
        }
        checkFree(state, newName);
        return List.of(new ContainerRenamed(id, oldName, newName));
    }

    private List<ContainerEvent> remove(RemoveContainer r, Containers state) {
        String id = state.resolve(r.reference());
        Entry e = state.byId().get(id);
        if (e.active() && !r.force()) {
            throw DomainException.conflict("You cannot remove a " + e.status() + " container " + id
                    + ". Stop the container before attempting removal or force remove");
        }
        return List.of(new ContainerRemoved(id, e.name(), e.image(), e.labels(), r.autoRemoved()));
    }

    private List<ContainerEvent> observed(NodeObservation.ContainerFact fact, Containers state) {
        String id = fact.containerId();
        Entry e = state.byId().get(id);
        if (e == null) {
            return List.of();
        }
        String n = e.name();
        String img = e.image();
        Map<String, String> l = e.labels();
        if (fact instanceof NodeObservation.ContainerStarted s) {
            return "running".equals(e.status()) ? List.of() : List.of(new ContainerStarted(id, n, img, l, s.nodeId(),
                    s.pid(), s.startedAt(), network(s.network())));
        }
        if (fact instanceof NodeObservation.ContainerStartFailed f) {
            return List.of(new ContainerStartFailed(id, n, img, l, f.exitCode(), f.message()));
        }
        if (fact instanceof NodeObservation.ContainerExited x) {
            return !e.active() ? List.of() : List.of(new ContainerDied(id, n, img, l, x.exitCode(), x.oomKilled(),
                    x.finishedAt(), x.willRestart()));
        }
        if (fact instanceof NodeObservation.ContainerRestarted r) {
            return List.of(new ContainerRestartedByPolicy(id, n, img, l, r.restartCount(), r.pid(), r.startedAt(),
                    network(r.network())));
        }
        if (fact instanceof NodeObservation.ContainerKilled k) {
            return List.of(new ContainerKilled(id, n, img, l, k.signal()));
        }
        if (fact instanceof NodeObservation.ContainerPaused) {
            return "paused".equals(e.status()) ? List.of() : List.of(new ContainerPaused(id, n, img, l));
        }
        if (fact instanceof NodeObservation.ContainerUnpaused) {
            return !"paused".equals(e.status()) ? List.of() : List.of(new ContainerUnpaused(id, n, img, l));
        }
        if (fact instanceof NodeObservation.ContainerRemoved r) {
            return List.of(new ContainerRemoved(id, n, img, l, r.autoRemoved()));
        }
        if (fact instanceof NodeObservation.ContainerStateReported r) {
            return reconcile(id, e, r);
        }
        // ContainerCreated and CommandFailed answer a command; they change nothing here
        return List.of();
    }

    /** The events that bring the aggregate to the state a (restarted) agent reports. */
    private static List<ContainerEvent> reconcile(String id, Entry e, NodeObservation.ContainerStateReported r) {
        String n = e.name();
        String img = e.image();
        Map<String, String> l = e.labels();
        List<ContainerEvent> out = new ArrayList<>();
        boolean nodeActive = "running".equals(r.status()) || "paused".equals(r.status());
        if (nodeActive && !e.active()) {
            out.add(new ContainerStarted(id, n, img, l, r.nodeId(), r.pid(),
                    r.startedAt() == null ? Instant.EPOCH : r.startedAt(), e.network()));
        }
        if (!nodeActive && e.active()) {
            out.add(new ContainerDied(id, n, img, l, r.exitCode(), false,
                    r.finishedAt() == null ? Instant.EPOCH : r.finishedAt(), false));
        }
        String now = out.isEmpty() ? e.status() : nodeActive ? "running" : "exited";
        if ("paused".equals(r.status()) && "running".equals(now)) {
            out.add(new ContainerPaused(id, n, img, l));
        } else if ("running".equals(r.status()) && "paused".equals(now)) {
            out.add(new ContainerUnpaused(id, n, img, l));
        }
        return out;
    }

    private static ContainerEvent.Network network(NodeObservation.NetworkSettings s) {
        if (s == null) {
            return null;
        }
        List<ContainerEvent.Port> ports = new ArrayList<>();
        if (s.ports() != null) {
            s.ports().forEach(p -> ports.add(new ContainerEvent.Port(p.hostIp(), p.hostPort(), p.containerPort(),
                    p.protocol())));
        }
        return new ContainerEvent.Network(s.ipAddress(), s.prefixLength(), s.gateway(), s.macAddress(),
                List.copyOf(ports));
    }

    private static List<ContainerEvent> fact(Containers state, String id,
                                             java.util.function.BiFunction<String, Entry, ContainerEvent> make) {
        Entry e = state.byId().get(id);
        return e == null ? List.of() : List.of(make.apply(id, e));
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
        Map<String, Entry> all = new LinkedHashMap<>(state.byId());
        String id = event.containerId();
        Entry e = all.get(id);
        if (event instanceof ContainerCreated c) {
            all.put(id, new Entry(c.name(), c.spec().image(), c.spec().labels(), c.nodeId(), "created", null));
        } else if (event instanceof ContainerRenamed r) {
            all.put(id, e.withName(r.newName()));
        } else if (event instanceof ContainerRemoved) {
            all.remove(id);
        } else if (event instanceof ContainerStarted s) {
            all.put(id, e.running(s.nodeId(), s.network()));
        } else if (event instanceof ContainerRestartedByPolicy r) {
            all.put(id, e.running(null, r.network()));
        } else if (event instanceof ContainerDied d) {
            all.put(id, e.withStatus(d.willRestart() ? "restarting" : "exited"));
        } else if (event instanceof ContainerPaused) {
            all.put(id, e.withStatus("paused"));
        } else if (event instanceof ContainerUnpaused) {
            all.put(id, e.withStatus("running"));
        }
        // start-failed, killed, stopped and restarted change no state: the node reports exits separately
        return new Containers(java.util.Collections.unmodifiableMap(all));
    }
}
