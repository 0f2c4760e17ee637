package dev.berth.container.domain;

import dev.berth.events.EventType;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The facts of containers' lives, in the aggregate of a tenant's containers ({@code <tenant>/containers}). Their
 * JSON form is a public contract (docs/containers.md, docs/events.md). Every fact after {@code created} carries the
 * container's {@code name}, {@code image} and {@code labels}, so a reader of the topic needs no other state.
 */
public sealed interface ContainerEvent {

    /** The container this event is about (64 hex characters). */
    String containerId();

    /** A fact about an existing container, with what a reader of the topic needs to render it. */
    sealed interface Fact extends ContainerEvent {
        String name();

        String image();

        Map<String, String> labels();
    }

    /**
     * A container was created, not started.
     *
     * @param name      without Docker's leading slash, unique in the tenant
     * @param spec      the resolved specification
     * @param createdAt when, to the nanosecond Docker reports
     * @param nodeId    the node it is scheduled on (null in events written before scheduling existed)
     */
    @EventType("dev.berth.container.created.v1")
    record ContainerCreated(String containerId, String name, ContainerSpec spec, Instant createdAt, String nodeId)
            implements ContainerEvent {
    }

    /** A container got a new name. */
    @EventType("dev.berth.container.renamed.v1")
    record ContainerRenamed(String containerId, String oldName, String newName) implements ContainerEvent {
    }

    /**
     * A container is gone; its name is free again.
     *
     * @param autoRemoved removed by its AutoRemove ({@code --rm}) after it exited
     */
    @EventType("dev.berth.container.removed.v1")
    record ContainerRemoved(String containerId, String name, String image, Map<String, String> labels,
                            boolean autoRemoved) implements Fact {
    }

    /** The process runs on {@code nodeId}. {@code network} is null for the none and host modes. */
    @EventType("dev.berth.container.started.v1")
    record ContainerStarted(String containerId, String name, String image, Map<String, String> labels, String nodeId,
                            int pid, Instant startedAt, Network network) implements Fact {
    }

    /** A start failed; the container stays created with this exit code (127 not found, 126 not executable). */
    @EventType("dev.berth.container.start-failed.v1")
    record ContainerStartFailed(String containerId, String name, String image, Map<String, String> labels,
                                int exitCode, String message) implements Fact {
    }

    /** The process ended; {@code willRestart}: the restart policy starts it again. */
    @EventType("dev.berth.container.died.v1")
    record ContainerDied(String containerId, String name, String image, Map<String, String> labels, int exitCode,
                         boolean oomKilled, Instant finishedAt, boolean willRestart) implements Fact {
    }

    /** The restart policy started the process again ({@code restartCount} since the last start by a client). */
    @EventType("dev.berth.container.restarted-by-policy.v1")
    record ContainerRestartedByPolicy(String containerId, String name, String image, Map<String, String> labels,
                                      int restartCount, int pid, Instant startedAt, Network network) implements Fact {
    }

    /** A signal was delivered: its number, or its name as the client gave it. */
    @EventType("dev.berth.container.killed.v1")
    record ContainerKilled(String containerId, String name, String image, Map<String, String> labels, String signal)
            implements Fact {
    }

    /** A stop command completed (the process has exited). */
    @EventType("dev.berth.container.stopped.v1")
    record ContainerStopped(String containerId, String name, String image, Map<String, String> labels)
            implements Fact {
    }

    /** A {@code docker restart} completed. */
    @EventType("dev.berth.container.restarted.v1")
    record ContainerRestarted(String containerId, String name, String image, Map<String, String> labels)
            implements Fact {
    }

    @EventType("dev.berth.container.paused.v1")
    record ContainerPaused(String containerId, String name, String image, Map<String, String> labels)
            implements Fact {
    }

    @EventType("dev.berth.container.unpaused.v1")
    record ContainerUnpaused(String containerId, String name, String image, Map<String, String> labels)
            implements Fact {
    }

    /** A container's network as its node set it up. */
    record Network(String ipAddress, int prefixLength, String gateway, String macAddress, List<Port> ports) {
    }

    /** A published port as bound ({@code hostPort} resolved when the client asked for any). */
    record Port(String hostIp, int hostPort, int containerPort, String protocol) {
    }
}
