package dev.berth.eventstore;

import java.util.UUID;

/**
 * Who caused an append: the tenant (part of every event), the correlation id of the whole flow, and the id of the
 * event or request that caused it (null at the edge).
 */
public record EventMetadata(String tenant, UUID correlationId, UUID causationId) {
    public static EventMetadata of(String tenant) {
        UUID id = UUID.randomUUID();
        return new EventMetadata(tenant, id, null);
    }
}
