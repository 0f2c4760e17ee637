package dev.berth.container.domain;

import java.time.Instant;
import java.util.List;

/** What a client asks of a tenant's containers. References are a full id, a name (with or without slash) or an id prefix. */
public sealed interface ContainerCommand {

    /**
     * Create a container.
     *
     * @param id             a fresh 64-hex id
     * @param name           the requested name, or null for a generated one
     * @param generatedNames candidates used in order when {@code name} is null (the first one not in use wins)
     */
    record CreateContainer(String id, String name, List<String> generatedNames, ContainerSpec spec, Instant now)
            implements ContainerCommand {
    }

    record RenameContainer(String reference, String newName) implements ContainerCommand {
    }

    /** Remove a container; {@code force} also removes a running one (none runs yet). */
    record RemoveContainer(String reference, boolean force) implements ContainerCommand {
    }
}
