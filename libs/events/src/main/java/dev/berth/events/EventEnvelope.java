package dev.berth.events;

import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * One event as it travels on Kafka: the CloudEvents 1.0 attributes plus Berth's extensions, and the JSON payload.
 *
 * @param id            CloudEvents {@code id}: the event's row id in the producer's log, the consumers' dedupe key
 * @param source        CloudEvents {@code source}: {@code /<service>}, e.g. {@code /volume-service}
 * @param type          CloudEvents {@code type}: {@code dev.berth.<aggregate>.<past-tense-verb>.v<N>}
 * @param subject       CloudEvents {@code subject}: the aggregate id (also the record key)
 * @param time          CloudEvents {@code time}: when the event was appended
 * @param tenant        extension {@code tenant}: the tenant that owns the aggregate
 * @param sequence      extension {@code sequence}: the aggregate version (1, 2, ...)
 * @param correlationId extension {@code correlationid}: the whole flow (null if unknown)
 * @param causationId   extension {@code causationid}: the event or request that caused this one (null at the edge)
 * @param data          the JSON payload
 */
public record EventEnvelope(String id, String source, String type, String subject, Instant time, String tenant,
                            long sequence, UUID correlationId, UUID causationId, String data) {

    public static final String SPEC_VERSION = "1.0";
    public static final String CONTENT_TYPE = "application/json";
    private static final String TYPE_PREFIX = "dev.berth.";

    public EventEnvelope {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(data, "data");
    }

    /** The aggregate type named in {@link #type} ({@code dev.berth.volume.created.v1} gives {@code volume}). */
    public String aggregateType() {
        return aggregateTypeOf(type);
    }

    /** The payload as the family's record (see {@link EventCodec#decode}). */
    public <E> E payload(EventCodec<E> codec) {
        return codec.decode(type, data);
    }

    /**
     * The aggregate type named in an event type string.
     *
     * @throws IllegalArgumentException if the type does not follow {@code dev.berth.<aggregate>.<verb>.v<N>}
     */
    public static String aggregateTypeOf(String type) {
        if (type.startsWith(TYPE_PREFIX)) {
            int end = type.indexOf('.', TYPE_PREFIX.length());
            if (end > TYPE_PREFIX.length()) {
                return type.substring(TYPE_PREFIX.length(), end);
            }
        }
        throw new IllegalArgumentException("event type '" + type + "' is not dev.berth.<aggregate>.<verb>.v<N>");
    }
}
