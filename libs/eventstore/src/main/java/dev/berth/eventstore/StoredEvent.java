package dev.berth.eventstore;

import java.time.Instant;
import java.util.UUID;

/**
 * An event as committed.
 *
 * @param id            unique id; the CloudEvents {@code id} and the consumers' dedupe key
 * @param position      global position in this service's log (bigserial; order of insertion, not of commit)
 * @param aggregateType e.g. {@code volume}; decides the Kafka topic
 * @param aggregateId   the record key and CloudEvents {@code subject}
 * @param version       aggregate version (CloudEvents extension {@code sequence})
 * @param type          CloudEvents {@code type}
 * @param tenant        the tenant that owns the aggregate
 * @param data          JSON payload
 */
public record StoredEvent(UUID id, long position, String aggregateType, String aggregateId, long version, String type,
                          String tenant, String data, UUID correlationId, UUID causationId, Instant time) {
}
