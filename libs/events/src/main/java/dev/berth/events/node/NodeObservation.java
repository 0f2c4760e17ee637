package dev.berth.events.node;

import java.time.Instant;
import java.util.List;

/**
 * What a node agent reports on {@code berth.nodes.events}: heartbeats (key and subject: the node id) and container
 * facts (key and subject: the container id, so the facts of one container stay in order). CloudEvents binary mode,
 * {@code ce_source} = {@code /node-agent/<nodeId>}, {@code ce_sequence} = the agent's own increasing number,
 * {@code ce_causationid} = the command that caused the fact (none for facts the node found by itself, such as an
 * exit), {@code ce_correlationid} copied from that command.
 *
 * <p>Observations are written to an on-disk outbox before they are sent, so they survive Kafka or the agent being
 * down; a consumer may see one twice and deduplicates by {@code ce_id}.
 */
public sealed interface NodeObservation {

    String nodeId();

    /** An observation about one container: keyed and subject by its id. */
    sealed interface ContainerFact extends NodeObservation {
        String containerId();
    }

    /** Periodic: the node is alive, where its data plane is and what it has. */
    @dev.berth.events.EventType("dev.berth.node.heartbeat-recorded.v1")
    record NodeHeartbeat(String nodeId, String address, int cpus, long memoryBytes, int containersRunning,
                         int containersTotal, String cgroupMode, Instant time) implements NodeObservation {
    }

    @dev.berth.events.EventType("dev.berth.node.container-created.v1")
    record ContainerCreated(String nodeId, String containerId, Instant createdAt) implements ContainerFact {
    }

    /**
     * The process runs.
     *
     * @param network the address and the ports as bound (random host ports resolved); null for "none"/"host"
     */
    @dev.berth.events.EventType("dev.berth.node.container-started.v1")
    record ContainerStarted(String nodeId, String containerId, int pid, Instant startedAt, NetworkSettings network)
            implements ContainerFact {
    }

    /**
     * The process could not be started; the container stays created.
     *
     * @param status   the Engine API status for the start call (400 for an exec failure, 404, 409, 500)
     * @param exitCode what Docker records: 127 command not found, 126 not executable, 1 other setup failure
     * @param message  Docker's message, e.g. {@code exec: "x": executable file not found in $PATH}
     */
    @dev.berth.events.EventType("dev.berth.node.container-start-failed.v1")
    record ContainerStartFailed(String nodeId, String containerId, int status, int exitCode, String message)
            implements ContainerFact {
    }

    /**
     * The process ended.
     *
     * @param exitCode    its code, 128+n when killed by signal n
     * @param willRestart the restart policy restarts it (a ContainerRestarted follows)
     */
    @dev.berth.events.EventType("dev.berth.node.container-exited.v1")
    record ContainerExited(String nodeId, String containerId, int exitCode, boolean oomKilled, Instant finishedAt,
                           boolean willRestart) implements ContainerFact {
    }

    /** The restart policy started the container again; {@code restartCount} counts since the last manual start. */
    @dev.berth.events.EventType("dev.berth.node.container-restarted.v1")
    record ContainerRestarted(String nodeId, String containerId, int restartCount, int pid, Instant startedAt,
                              NetworkSettings network) implements ContainerFact {
    }

    /** A signal was delivered. */
    @dev.berth.events.EventType("dev.berth.node.container-killed.v1")
    record ContainerKilled(String nodeId, String containerId, String signal) implements ContainerFact {
    }

    @dev.berth.events.EventType("dev.berth.node.container-paused.v1")
    record ContainerPaused(String nodeId, String containerId) implements ContainerFact {
    }

    @dev.berth.events.EventType("dev.berth.node.container-unpaused.v1")
    record ContainerUnpaused(String nodeId, String containerId) implements ContainerFact {
    }

    /** Nothing of the container is left on the node ({@code autoRemoved}: by its AutoRemove after exit). */
    @dev.berth.events.EventType("dev.berth.node.container-removed.v1")
    record ContainerRemoved(String nodeId, String containerId, boolean autoRemoved) implements ContainerFact {
    }

    /**
     * At agent start, for each container found on the node: its state then (exits that happened while the agent was
     * down are reported as ContainerExited before this).
     *
     * @param status Docker's State.Status: created, running, paused, exited
     */
    @dev.berth.events.EventType("dev.berth.node.container-state-reported.v1")
    record ContainerStateReported(String nodeId, String containerId, String status, int pid, int exitCode,
                                  Instant startedAt, Instant finishedAt) implements ContainerFact {
    }

    /**
     * A command could not be carried out.
     *
     * @param commandType the command's CloudEvents type
     * @param status      the Engine API status to answer with (304, 400, 404, 409, 500)
     * @param message     what the client prints
     */
    @dev.berth.events.EventType("dev.berth.node.command-failed.v1")
    record CommandFailed(String nodeId, String containerId, String commandType, int status, String message)
            implements ContainerFact {
    }

    /** A container's network as the node set it up. */
    record NetworkSettings(String mode, String ipAddress, int prefixLength, String gateway, String macAddress,
                           List<NodeContainerSpec.PortBinding> ports) {
    }
}
