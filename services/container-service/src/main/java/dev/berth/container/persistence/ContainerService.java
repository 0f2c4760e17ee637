package dev.berth.container.persistence;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.container.domain.ContainerCommand;
import dev.berth.container.domain.ContainerDecider;
import dev.berth.container.domain.ContainerEvent;
import dev.berth.container.domain.ContainerSpec;
import dev.berth.container.domain.Containers;
import dev.berth.container.domain.Names;
import dev.berth.container.domain.Signals;
import dev.berth.container.messaging.CommandBus;
import dev.berth.container.nodes.NodeSpecs;
import dev.berth.container.nodes.Scheduler;
import dev.berth.container.projection.ContainerView;
import dev.berth.container.projection.ImageCatalog;
import dev.berth.events.DomainException;
import dev.berth.events.Json;
import dev.berth.events.node.NodeCommand;
import dev.berth.events.node.NodeObservation;
import dev.berth.events.node.NodeObservation.CommandFailed;
import dev.berth.eventstore.Aggregates;
import dev.berth.eventstore.EventMetadata;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Runs container commands: through the event store for what the control plane decides (names, existence), through
 * the node a container is scheduled on for what happens to its process. All containers of a tenant are the
 * aggregate {@code <tenant>/containers}, so names are unique per tenant by construction of the log. The node's
 * answers become events in {@link dev.berth.container.messaging.NodeEventsConsumer}; a method here returns once
 * its answer is applied, so a read right after sees the new state.
 */
@ApplicationScoped
public class ContainerService {

    public static final String AGGREGATE_TYPE = "container";
    private static final Logger LOG = Logger.getLogger(ContainerService.class);

    private final Aggregates aggregates;
    private final CommandBus bus;
    private final Scheduler scheduler;
    private final ContainerRepository containers;
    private final ImageCatalog images;
    private final Waits waits;
    private final ContainerDecider decider = new ContainerDecider();
    private final SecureRandom random = new SecureRandom();

    public ContainerService(Aggregates aggregates, CommandBus bus, Scheduler scheduler, ContainerRepository containers,
                            ImageCatalog images, Waits waits) {
        this.aggregates = aggregates;
        this.bus = bus;
        this.scheduler = scheduler;
        this.containers = containers;
        this.images = images;
        this.waits = waits;
    }

    /** The aggregate id of a tenant's containers. */
    public static String aggregateId(String tenant) {
        return tenant + "/containers";
    }

    /**
     * Creates a container on a node chosen by the scheduler: appends {@code created}, then has the node prepare it.
     * If the node refuses, {@code removed} is appended and its status and message are the failure: nothing
     * half-created remains.
     *
     * @param name   null for a generated {@code adjective_surname}
     * @param layers the image's layers, base first
     * @return its new 64-hex id
     * @throws DomainException (as the Uni's failure) 400 bad name, 409 name in use, 503 no node, the node's refusal
     */
    public Uni<String> create(String tenant, String name, ContainerSpec spec, JsonNode layers) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String id = HexFormat.of().formatHex(bytes);
        List<String> candidates = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            candidates.add(Names.random(random, i));
        }
        var nodeSpec = NodeSpecs.of(spec, layers);
        return scheduler.pick().chain(node -> handle(tenant,
                        new ContainerCommand.CreateContainer(id, name, candidates, spec, Instant.now(), node.id()))
                .chain(() -> bus.send(new NodeCommand.CreateContainer(node.id(), id, nodeSpec)))
                .onFailure().call(e -> forget(tenant, id))
                .chain(answer -> answer instanceof CommandFailed f
                        ? forget(tenant, id).chain(() -> Uni.createFrom().failure(refusal(f)))
                        : Uni.createFrom().item(id)));
    }

    /** Drops a container the node could not create (the node's own removal runs too, in case it half did). */
    private Uni<Void> forget(String tenant, String id) {
        return containers.byId(id).chain(view -> {
            if (view == null) {
                return Uni.createFrom().voidItem();
            }
            if (view.nodeId != null) {
                bus.send(new NodeCommand.RemoveContainer(view.nodeId, id, true)).subscribe().with(
                        ok -> { }, e -> LOG.warnf("removing %s from node %s: %s", id, view.nodeId, e.getMessage()));
            }
            return handle(tenant, new ContainerCommand.RemoveContainer(id, true, false)).replaceWithVoid();
        }).onFailure().recoverWithNull().replaceWithVoid();
    }

    /**
     * Starts a container.
     *
     * @return false when it already runs (Docker's 304)
     * @throws DomainException 404, 409 paused, the node's start failure (400 with Docker's exec wording and the
     *                         container left created with exit code 127/126), 500 node timeout
     */
    public Uni<Boolean> start(String tenant, String reference) {
        return found(tenant, reference).chain(view -> {
            if ("paused".equals(view.state)) {
                throw DomainException.conflict("cannot start a paused container, try unpause instead");
            }
            if ("running".equals(view.state) || "restarting".equals(view.state)) {
                return Uni.createFrom().item(false);
            }
            return startOnNode(tenant, view, true).replaceWith(true);
        });
    }

    private Uni<Void> startOnNode(String tenant, ContainerView view, boolean recreateIfLost) {
        return bus.send(new NodeCommand.StartContainer(view.nodeId, view.id),
                        o -> o instanceof NodeObservation.ContainerStarted
                                || o instanceof NodeObservation.ContainerStartFailed)
                .chain(answer -> {
                    if (answer instanceof NodeObservation.ContainerStartFailed f) {
                        return Uni.createFrom().failure(new DomainException(f.status(), f.message()));
                    }
                    if (answer instanceof CommandFailed f && f.status() == 404 && recreateIfLost) {
                        // the node lost the container (its disk was wiped): prepare it again, then start
                        LOG.infof("node %s lost container %s; creating it again", view.nodeId, view.id);
                        return recreate(tenant, view).chain(() -> startOnNode(tenant, view, false));
                    }
                    if (answer instanceof CommandFailed f) {
                        return Uni.createFrom().failure(refusal(f));
                    }
                    return Uni.createFrom().voidItem();
                });
    }

    private Uni<Void> recreate(String tenant, ContainerView view) {
        ContainerSpec spec = spec(view);
        return images.layers(tenant, view.imageId).chain(layers -> bus.send(
                        new NodeCommand.CreateContainer(view.nodeId, view.id, NodeSpecs.of(spec, layers))))
                .chain(answer -> answer instanceof CommandFailed f ? Uni.createFrom().failure(refusal(f))
                        : Uni.createFrom().voidItem());
    }

    /**
     * Stops a container: {@code signal} (null: its stop signal), then SIGKILL after {@code timeout} seconds (null: its
     * own, else 10).
     *
     * @return false when it was not running (Docker's 304)
     * @throws DomainException 400 for an invalid signal
     */
    public Uni<Boolean> stop(String tenant, String reference, Integer timeout, String signal) {
        Signals.validate(signal);
        return found(tenant, reference).chain(view -> {
            if (!active(view)) {
                return Uni.createFrom().item(false);
            }
            return bus.send(new NodeCommand.StopContainer(view.nodeId, view.id, timeout, blankToNull(signal)),
                            o -> o instanceof NodeObservation.ContainerExited, grace(timeout))
                    .chain(answer -> {
                        if (answer instanceof CommandFailed f) {
                            return f.status() == 304 ? Uni.createFrom().item(false)
                                    : Uni.createFrom().failure(refusal(f));
                        }
                        return handle(tenant, new ContainerCommand.RecordStopped(view.id)).replaceWith(true);
                    });
        });
    }

    /**
     * Sends a signal (null: SIGKILL). A SIGKILL returns once the process has exited, as Docker's does.
     *
     * @throws DomainException 400 invalid signal, 404, 409 {@code Cannot kill container: x: Container <id> is not running}
     */
    public Uni<Void> kill(String tenant, String reference, String signal) {
        Signals.validate(signal);
        boolean fatal = Signals.isKill(signal);
        return found(tenant, reference).chain(view -> {
            if (!active(view) || "restarting".equals(view.state)) {
                throw DomainException.conflict("Cannot kill container: " + reference + ": Container " + view.id
                        + " is not running");
            }
            return bus.send(new NodeCommand.KillContainer(view.nodeId, view.id, signal),
                            o -> fatal ? o instanceof NodeObservation.ContainerExited
                                    : o instanceof NodeObservation.ContainerKilled)
                    .chain(answer -> answer instanceof CommandFailed f ? Uni.createFrom().failure(refusal(f))
                            : Uni.createFrom().voidItem());
        });
    }

    /**
     * Stops (if it runs, with {@code signal} or its stop signal) and starts a container again; {@code restarted} is
     * appended when it runs again.
     */
    public Uni<Void> restart(String tenant, String reference, Integer timeout, String signal) {
        Signals.validate(signal);
        return found(tenant, reference).chain(view -> bus.send(
                        new NodeCommand.RestartContainer(view.nodeId, view.id, timeout, blankToNull(signal)),
                        o -> o instanceof NodeObservation.ContainerStarted
                                || o instanceof NodeObservation.ContainerStartFailed, grace(timeout))
                .chain(answer -> {
                    if (answer instanceof NodeObservation.ContainerStartFailed f) {
                        return Uni.createFrom().failure(new DomainException(f.status(), f.message()));
                    }
                    if (answer instanceof CommandFailed f) {
                        return Uni.createFrom().failure(refusal(f));
                    }
                    return handle(tenant, new ContainerCommand.RecordRestarted(view.id)).replaceWithVoid();
                }));
    }

    /** Freezes a running container. 409 with Docker's wording when it is not running or already paused. */
    public Uni<Void> pause(String tenant, String reference) {
        return found(tenant, reference).chain(view -> {
            if ("paused".equals(view.state)) {
                throw DomainException.conflict("Container " + view.id + " is already paused");
            }
            if (!"running".equals(view.state)) {
                throw DomainException.conflict("Container " + view.id + " is not running");
            }
            return answer(bus.send(new NodeCommand.PauseContainer(view.nodeId, view.id)));
        });
    }

    /** Thaws a paused container. 409 {@code Container <id> is not paused} otherwise. */
    public Uni<Void> unpause(String tenant, String reference) {
        return found(tenant, reference).chain(view -> {
            if (!"paused".equals(view.state)) {
                throw DomainException.conflict("Container " + view.id + " is not paused");
            }
            return answer(bus.send(new NodeCommand.UnpauseContainer(view.nodeId, view.id)));
        });
    }

    /** Renames a container (by id, name or id prefix). */
    public Uni<Void> rename(String tenant, String reference, String newName) {
        return handle(tenant, new ContainerCommand.RenameContainer(reference, newName)).replaceWithVoid();
    }

    /**
     * Removes a container (by id, name or id prefix) from its node, then from the aggregate (when the node's
     * {@code ContainerRemoved} is applied).
     *
     * @throws DomainException 404; 409 {@code You cannot remove a running container <id>. Stop the container before
     *                         attempting removal or force remove} without force
     */
    public Uni<Void> remove(String tenant, String reference, boolean force) {
        return found(tenant, reference).chain(view -> {
            if (active(view) && !force) {
                throw DomainException.conflict("You cannot remove a " + view.state + " container " + view.id
                        + ". Stop the container before attempting removal or force remove");
            }
            if (view.nodeId == null) {
                return handle(tenant, new ContainerCommand.RemoveContainer(view.id, force, false)).replaceWithVoid();
            }
            return answer(bus.send(new NodeCommand.RemoveContainer(view.nodeId, view.id, force),
                    o -> o instanceof NodeObservation.ContainerRemoved));
        });
    }

    /** Applies what a node observed, in the caller's transaction; the events appended (maybe none) are the item. */
    public Uni<List<ContainerEvent>> observe(String tenant, NodeObservation.ContainerFact fact) {
        // no wait is told here: the caller's transaction has not committed yet (the consumer tells them after)
        return aggregates.handle(AGGREGATE_TYPE, aggregateId(tenant), decider, ContainerEvent.class,
                new ContainerCommand.RecordObservation(fact), EventMetadata.of(tenant)).map(d -> d.events());
    }

    /**
     * The time a stop may take beyond the command timeout: its grace period (Docker's default 10 s when unset; -1,
     * "wait for ever", is bounded by a day).
     */
    private static java.time.Duration grace(Integer timeout) {
        if (timeout == null) {
            return java.time.Duration.ofSeconds(10);
        }
        return timeout < 0 ? java.time.Duration.ofDays(1) : java.time.Duration.ofSeconds(timeout);
    }

    private Uni<Void> answer(Uni<NodeObservation> sent) {
        return sent.chain(answer -> answer instanceof CommandFailed f ? Uni.createFrom().failure(refusal(f))
                : Uni.createFrom().voidItem());
    }

    private static DomainException refusal(CommandFailed f) {
        return new DomainException(f.status(), f.message());
    }

    private static boolean active(ContainerView view) {
        return "running".equals(view.state) || "paused".equals(view.state) || "restarting".equals(view.state);
    }

    private Uni<ContainerView> found(String tenant, String reference) {
        return containers.find(tenant, reference).map(view -> {
            if (view == null) {
                throw DomainException.notFound("No such container: " + reference);
            }
            return view;
        });
    }

    private static ContainerSpec spec(ContainerView view) {
        try {
            return Json.mapper().readValue(view.specJson, ContainerSpec.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Uni<Aggregates.Decision<Containers, ContainerEvent>> handle(String tenant, ContainerCommand command) {
        return aggregates.handle(AGGREGATE_TYPE, aggregateId(tenant), decider, ContainerEvent.class, command,
                        EventMetadata.of(tenant))
                .invoke(d -> waits.applied(d.events()));
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
