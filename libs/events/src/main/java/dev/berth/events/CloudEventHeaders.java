package dev.berth.events;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The CloudEvents 1.0 Kafka protocol binding in binary mode, without a Kafka dependency: attributes as {@code ce_}
 * headers (UTF-8 strings), {@code content-type} for {@code datacontenttype}, the JSON payload as the record value and
 * the aggregate id as the record key.
 */
public final class CloudEventHeaders {
    public static final String SPECVERSION = "ce_specversion";
    public static final String ID = "ce_id";
    public static final String SOURCE = "ce_source";
    public static final String TYPE = "ce_type";
    public static final String SUBJECT = "ce_subject";
    public static final String TIME = "ce_time";
    public static final String TENANT = "ce_tenant";
    public static final String SEQUENCE = "ce_sequence";
    public static final String CORRELATION_ID = "ce_correlationid";
    public static final String CAUSATION_ID = "ce_causationid";
    public static final String CONTENT_TYPE = "content-type";

    private CloudEventHeaders() {
    }

    /** The headers of an envelope, in a stable order; absent optional attributes are left out. */
    public static Map<String, byte[]> toHeaders(EventEnvelope e) {
        Map<String, byte[]> h = new LinkedHashMap<>();
        put(h, SPECVERSION, EventEnvelope.SPEC_VERSION);
        put(h, ID, e.id());
        put(h, SOURCE, e.source());
        put(h, TYPE, e.type());
        put(h, SUBJECT, e.subject());
        if (e.time() != null) {
            put(h, TIME, e.time().toString());
        }
        if (e.tenant() != null) {
            put(h, TENANT, e.tenant());
        }
        put(h, SEQUENCE, Long.toString(e.sequence()));
        if (e.correlationId() != null) {
            put(h, CORRELATION_ID, e.correlationId().toString());
        }
        if (e.causationId() != null) {
            put(h, CAUSATION_ID, e.causationId().toString());
        }
        put(h, CONTENT_TYPE, EventEnvelope.CONTENT_TYPE);
        return h;
    }

    /** The record value of an envelope. */
    public static byte[] toValue(EventEnvelope e) {
        return e.data().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The envelope of a record in binary mode.
     *
     * @param headers the record's headers (last value wins for a repeated name)
     * @param key     the record key (used as subject when {@code ce_subject} is missing)
     * @param value   the record value (JSON)
     * @throws IllegalArgumentException if a required attribute is missing or malformed, or the spec version is not 1.0
     */
    public static EventEnvelope fromRecord(Map<String, byte[]> headers, String key, byte[] value) {
        String specVersion = get(headers, SPECVERSION);
        if (!EventEnvelope.SPEC_VERSION.equals(specVersion)) {
            throw new IllegalArgumentException("not a CloudEvents 1.0 record (ce_specversion=" + specVersion + ")");
        }
        String subject = get(headers, SUBJECT);
        if (subject == null) {
            subject = key;
        }
        if (value == null) {
            throw new IllegalArgumentException("CloudEvents record " + get(headers, ID) + " has no data");
        }
        String time = get(headers, TIME);
        String sequence = get(headers, SEQUENCE);
        try {
            return new EventEnvelope(
                    required(headers, ID),
                    required(headers, SOURCE),
                    required(headers, TYPE),
                    subject == null ? required(headers, SUBJECT) : subject,
                    time == null ? null : Instant.parse(time),
                    get(headers, TENANT),
                    sequence == null ? 0 : Long.parseLong(sequence),
                    uuid(get(headers, CORRELATION_ID)),
                    uuid(get(headers, CAUSATION_ID)),
                    new String(value, StandardCharsets.UTF_8));
        } catch (DateTimeParseException | NumberFormatException e) {
            throw new IllegalArgumentException("malformed CloudEvents attribute in record " + get(headers, ID)
                    + ": " + e.getMessage(), e);
        }
    }

    private static UUID uuid(String s) {
        return s == null || s.isEmpty() ? null : UUID.fromString(s);
    }

    private static void put(Map<String, byte[]> h, String name, String value) {
        h.put(name, value.getBytes(StandardCharsets.UTF_8));
    }

    private static String get(Map<String, byte[]> h, String name) {
        byte[] v = h.get(name);
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    private static String required(Map<String, byte[]> h, String name) {
        String v = get(h, name);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("CloudEvents record without " + name);
        }
        return v;
    }
}
