package dev.berth.engineapi;

import dev.berth.events.DomainException;
import dev.berth.events.FilterArgs;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The {@code filters} query parameter of the Docker Engine API, in both forms clients send: the map form
 * {@code {"label":{"a=b":true}}} (docker CLI) and the older list form {@code {"label":["a=b"]}} (docker-compose v1,
 * Testcontainers). Matching follows Docker's {@code filters.Args}. In the map form only values mapped to a true
 * boolean count ({@code {"label":{"a=b":false}}} selects nothing by that value). Instances are immutable.
 */
public final class Filters {

    private static final Pattern GO_DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(h|m|s|ms)");
    private final Map<String, Set<String>> fields;

    private Filters(Map<String, Set<String>> fields) {
        this.fields = fields;
    }

    /**
     * @param raw      the parameter's value, already URL-decoded (null or blank: no filter)
     * @param accepted the keys this endpoint understands
     * @return the filters, keyed in the order the client sent them
     * @throws DomainException 400 {@code invalid filters: <raw>} for JSON that is not an object of lists or maps, 400
     *                         {@code invalid filter '<key>'} for a key the endpoint does not accept
     */
    public static Filters parse(String raw, Collection<String> accepted) {
        Map<String, Set<String>> fields;
        try {
            fields = FilterArgs.parse(raw);
        } catch (FilterArgs.Malformed e) {
            throw DomainException.badRequest(e.getMessage());
        }
        for (String key : fields.keySet()) {
            if (!accepted.contains(key)) {
                throw DomainException.badRequest("invalid filter '" + key + "'");
            }
        }
        return new Filters(fields);
    }

    /** True when the key is present with at least one value. */
    public boolean contains(String key) {
        return fields.containsKey(key) && !fields.get(key).isEmpty();
    }

    /** The values of a key, in the order sent; empty when the key is absent. */
    public Set<String> get(String key) {
        return fields.getOrDefault(key, Set.of());
    }

    /** True when the key is absent, or any of its values equals {@code source} or finds it as a regular expression. */
    public boolean match(String key, String source) {
        Set<String> values = get(key);
        if (values.isEmpty()) {
            return true;
        }
        for (String v : values) {
            if (v.equals(source)) {
                return true;
            }
            try {
                if (Pattern.compile(v).matcher(source).find()) {
                    return true;
                }
            } catch (PatternSyntaxException ignored) {
                // Docker skips a value that is not a valid expression
            }
        }
        return false;
    }

    /** True when the key is absent or any of its values equals {@code source}. */
    public boolean exactMatch(String key, String source) {
        Set<String> values = get(key);
        return values.isEmpty() || values.contains(source);
    }

    /**
     * True when every value of the key ({@code k} or {@code k=v}) is satisfied by the labels (absent key: true).
     */
    public boolean matchLabels(String key, Map<String, String> labels) {
        for (String v : get(key)) {
            if (!hasLabel(v, labels)) {
                return false;
            }
        }
        return true;
    }

    /** True when no value of the key ({@code k} or {@code k=v}) is satisfied by the labels (for {@code label!}). */
    public boolean matchNoLabel(String key, Map<String, String> labels) {
        for (String v : get(key)) {
            if (hasLabel(v, labels)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The single boolean value of a key, read as Go's ParseBool (see {@link GoBool}).
     *
     * @return the value, or null when the key is absent
     * @throws DomainException 400 when there are several values or one is not a boolean
     */
    public Boolean bool(String key) {
        Set<String> values = get(key);
        if (values.isEmpty()) {
            return null;
        }
        if (values.size() > 1) {
            throw DomainException.badRequest("invalid filter '" + key + "': only one value is allowed");
        }
        String v = values.iterator().next();
        try {
            return GoBool.parse(key, v, false);
        } catch (DomainException e) {
            throw DomainException.badRequest("invalid filter '" + key + "=" + v + "'");
        }
    }

    /**
     * The {@code until} filter of the prune endpoints, read as Docker reads it: unix seconds (fractions allowed), an
     * RFC 3339 time, or a Go duration before now ({@code 10m}, {@code 1h30m}, {@code 1.5h}, {@code 500ms}).
     *
     * @return the instant, or null when the filter is absent
     * @throws DomainException 400 for more than one value or a value that is none of these
     */
    public Instant until() {
        Set<String> values = get("until");
        if (values.isEmpty()) {
            return null;
        }
        if (values.size() > 1) {
            throw DomainException.badRequest("more than one until filter specified");
        }
        String v = values.iterator().next();
        try {
            if (v.matches("\\d+(\\.\\d+)?")) {
                double seconds = Double.parseDouble(v);
                return Instant.ofEpochMilli((long) (seconds * 1000));
            }
            if (v.contains("T")) {
                return OffsetDateTime.parse(v).toInstant();
            }
        } catch (DateTimeParseException | NumberFormatException ignored) {
            // reported below
        }
        Matcher m = GO_DURATION.matcher(v);
        Duration total = Duration.ZERO;
        int end = 0;
        while (m.find() && m.start() == end) {
            double amount = Double.parseDouble(m.group(1));
            long millis = switch (m.group(2)) {
                case "h" -> (long) (amount * 3_600_000);
                case "m" -> (long) (amount * 60_000);
                case "s" -> (long) (amount * 1000);
                default -> (long) amount;
            };
            total = total.plusMillis(millis);
            end = m.end();
        }
        if (end == 0 || end != v.length()) {
            throw DomainException.badRequest("invalid filter 'until=" + v + "'");
        }
        return Instant.now().minus(total);
    }

    private static boolean hasLabel(String filter, Map<String, String> labels) {
        List<String> kv = List.of(filter.split("=", 2));
        String value = labels.get(kv.get(0));
        if (value == null) {
            return false;
        }
        return kv.size() == 1 || value.equals(kv.get(1));
    }
}
