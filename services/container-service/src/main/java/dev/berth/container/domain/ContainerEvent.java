package dev.berth.container.domain;

import dev.berth.events.EventType;

import java.time.Instant;

/**
 * The facts of containers' lives, in the aggregate of a tenant's containers ({@code <tenant>/containers}). Their
 * JSON form is a public contract (docs/containers.md).
 */
public sealed interface ContainerEvent {

    /** The container this event is about (64 hex characters). */
    String containerId();

    /**
     * A container was created, not started.
     *
     * @param name      without Docker's leading slash, unique in the tenant
     * @param spec      the resolved specification
     * @param createdAt when, to the nanosecond Docker reports
     */
    @EventType("dev.berth.container.created.v1")
    record ContainerCreated(String containerId, String name, ContainerSpec spec, Instant createdAt)
            implements ContainerEvent {
    }

    /** A container got a new name. */
    @EventType("dev.berth.container.renamed.v1")
    record ContainerRenamed(String containerId, String oldName, String newName) implements ContainerEvent {
    }

    /** A container is gone; its name is free again. */
    @EventType("dev.berth.container.removed.v1")
    record ContainerRemoved(String containerId, String name) implements ContainerEvent {
    }
}
