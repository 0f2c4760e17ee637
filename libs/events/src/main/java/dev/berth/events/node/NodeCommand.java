package dev.berth.events.node;

import dev.berth.events.EventType;

/**
 * Commands from the control plane to one node agent, on {@code berth.nodes.commands}, keyed by node id, CloudEvents
 * binary mode with {@code ce_id} = the command id (a UUID), {@code ce_subject} = the container id.
 *
 * <p>Contract: an agent acts only on commands whose {@link #nodeId()} is its own, handles each command id at most once
 * (a redelivered command changes nothing) and answers each one on {@code berth.nodes.events} with observations whose
 * {@code ce_causationid} is the command id: the fact the command produced, or {@link NodeObservation.CommandFailed}
 * with Docker's status and message. See docs/node/protocol.md for the answer of each command.
 */
public sealed interface NodeCommand {

    /** The node that must act on the command. */
    String nodeId();

    /** The container the command is about. */
    String containerId();

    /**
     * Fetches the missing layers, prepares the root filesystem and records the container. Answer:
     * {@link NodeObservation.ContainerCreated}, or CommandFailed (404 image/layer not found, 400 bad spec, 409 the id
     * exists with another spec).
     */
    @EventType("dev.berth.node.create-container-requested.v1")
    record CreateContainer(String nodeId, String containerId, NodeContainerSpec spec) implements NodeCommand {
    }

    /**
     * Starts the process. Answer: {@link NodeObservation.ContainerStarted} (also when it already runs), or
     * {@link NodeObservation.ContainerStartFailed} (400 with exit code 126/127/1), or CommandFailed (404).
     */
    @EventType("dev.berth.node.start-container-requested.v1")
    record StartContainer(String nodeId, String containerId) implements NodeCommand {
    }

    /**
     * The stop signal ({@code signal}, else the container's StopSignal, else SIGTERM), then SIGKILL after
     * {@code timeoutSeconds} (null: the container's, else 10). Answer: {@link NodeObservation.ContainerExited}, or
     * CommandFailed with 304 when it was not running, 400 for an invalid signal. Commands recorded before
     * {@code signal} existed read as null.
     */
    @EventType("dev.berth.node.stop-container-requested.v1")
    record StopContainer(String nodeId, String containerId, Integer timeoutSeconds, String signal)
            implements NodeCommand {
        public StopContainer(String nodeId, String containerId, Integer timeoutSeconds) {
            this(nodeId, containerId, timeoutSeconds, null);
        }
    }

    /** Stop (as above) then start. Answer: ContainerExited (if it ran) and ContainerStarted, or the failure. */
    @EventType("dev.berth.node.restart-container-requested.v1")
    record RestartContainer(String nodeId, String containerId, Integer timeoutSeconds, String signal)
            implements NodeCommand {
        public RestartContainer(String nodeId, String containerId, Integer timeoutSeconds) {
            this(nodeId, containerId, timeoutSeconds, null);
        }
    }

    /**
     * Sends a signal ("KILL", "SIGHUP", "15"; null: SIGKILL). Answer: {@link NodeObservation.ContainerKilled}, later
     * ContainerExited if the process dies; CommandFailed 409 when not running, 400 for an invalid signal.
     */
    @EventType("dev.berth.node.kill-container-requested.v1")
    record KillContainer(String nodeId, String containerId, String signal) implements NodeCommand {
    }

    /** Answer: {@link NodeObservation.ContainerPaused}, or CommandFailed 409. */
    @EventType("dev.berth.node.pause-container-requested.v1")
    record PauseContainer(String nodeId, String containerId) implements NodeCommand {
    }

    /** Answer: {@link NodeObservation.ContainerUnpaused}, or CommandFailed 409. */
    @EventType("dev.berth.node.unpause-container-requested.v1")
    record UnpauseContainer(String nodeId, String containerId) implements NodeCommand {
    }

    /**
     * Removes the container and everything of it (force: kills it first). Answer:
     * {@link NodeObservation.ContainerRemoved} (also when it is already gone), or CommandFailed 409 when it runs
     * and force is false.
     */
    @EventType("dev.berth.node.remove-container-requested.v1")
    record RemoveContainer(String nodeId, String containerId, boolean force) implements NodeCommand {
    }
}
