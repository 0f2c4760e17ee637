package dev.berth.container.persistence;

import dev.berth.container.domain.ContainerCommand;
import dev.berth.container.domain.ContainerDecider;
import dev.berth.container.domain.ContainerEvent;
import dev.berth.container.domain.ContainerSpec;
import dev.berth.container.domain.Containers;
import dev.berth.container.domain.Names;
import dev.berth.eventstore.Aggregates;
import dev.berth.eventstore.EventMetadata;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Runs container commands through the event store. All containers of a tenant are the aggregate
 * {@code <tenant>/containers}, so names are unique per tenant by construction of the log.
 */
@ApplicationScoped
public class ContainerService {

    public static final String AGGREGATE_TYPE = "container";

    private final Aggregates aggregates;
    private final ContainerDecider decider = new ContainerDecider();
    private final SecureRandom random = new SecureRandom();

    public ContainerService(Aggregates aggregates) {
        this.aggregates = aggregates;
    }

    /** The aggregate id of a tenant's containers. */
    public static String aggregateId(String tenant) {
        return tenant + "/containers";
    }

    /**
     * Creates a container.
     *
     * @param name null for a generated {@code adjective_surname}
     * @return its new 64-hex id
     * @throws dev.berth.events.DomainException (as the Uni's failure) 400 for a bad name, 409 for a name in use
     */
    public Uni<String> create(String tenant, String name, ContainerSpec spec) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String id = HexFormat.of().formatHex(bytes);
        List<String> candidates = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            candidates.add(Names.random(random, i));
        }
        return handle(tenant, new ContainerCommand.CreateContainer(id, name, candidates, spec, Instant.now()))
                .replaceWith(id);
    }

    /** Renames a container (by id, name or id prefix). */
    public Uni<Void> rename(String tenant, String reference, String newName) {
        return handle(tenant, new ContainerCommand.RenameContainer(reference, newName)).replaceWithVoid();
    }

    /** Removes a container (by id, name or id prefix). */
    public Uni<Void> remove(String tenant, String reference, boolean force) {
        return handle(tenant, new ContainerCommand.RemoveContainer(reference, force)).replaceWithVoid();
    }

    private Uni<Aggregates.Decision<Containers, ContainerEvent>> handle(String tenant, ContainerCommand command) {
        return aggregates.handle(AGGREGATE_TYPE, aggregateId(tenant), decider, ContainerEvent.class, command,
                EventMetadata.of(tenant));
    }
}
