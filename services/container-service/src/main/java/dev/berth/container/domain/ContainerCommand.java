package dev.berth.container.domain;

import dev.berth.events.node.NodeObservation;

import java.time.Instant;
import java.util.List;

/** What a client or a node asks of a tenant's containers. References are a full id, a name (with or without slash) or an id prefix. */
public sealed interface ContainerCommand {

    /**
     * Create a container on a node.
     *
     * @param id             a fresh 64-hex id
     * @param name           the requested name, or null for a generated one
     * @param generatedNames candidates used in order when {@code name} is null (the first one not in use wins)
     * @param nodeId         the node the scheduler chose
     */
    record CreateContainer(String id, String name, List<String> generatedNames, ContainerSpec spec, Instant now,
                           String nodeId) implements ContainerCommand {
    }

    record RenameContainer(String reference, String newName) implements ContainerCommand {
    }

    /**
     * Forget a container (its node has removed it, or never created it). Without {@code force} an active
     * (running, paused, restarting) container is refused with Docker's 409.
     */
    record RemoveContainer(String reference, boolean force, boolean autoRemoved) implements ContainerCommand {
    }

    /** Record what a node observed about a container; facts that change nothing yield no event. */
    record RecordObservation(NodeObservation.ContainerFact fact) implements ContainerCommand {
    }

    /** A stop command completed. */
    record RecordStopped(String id) implements ContainerCommand {
    }

    /** A restart command completed. */
    record RecordRestarted(String id) implements ContainerCommand {
    }
}
