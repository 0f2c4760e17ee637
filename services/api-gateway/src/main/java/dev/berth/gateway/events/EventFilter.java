package dev.berth.gateway.events;

import dev.berth.events.FilterArgs;

import java.util.Map;
import java.util.Set;

/**
 * The {@code filters} of {@code GET /events}, matched as dockerd's {@code daemon/events.Filter.Include} does: every
 * key given must match (values of one key are alternatives), {@code type}, {@code event} and {@code image} exactly,
 * the object keys ({@code container}, {@code network}, {@code volume}...) against the actor's id or its
 * {@code name} attribute by prefix, whatever the event's type (so {@code container=web} also selects the network
 * {@code webnet}, as in Docker), and {@code label} against the attributes, every value required.
 *
 * <p>Both forms clients send are read: {@code {"type":{"container":true}}} (docker CLI) and
 * {@code {"label":["a=b"]}} (docker-compose v1, docker-py). In the map form only values mapped to true count.
 */
public final class EventFilter {

    /** The keys dockerd accepts for events. */
    static final Set<String> ACCEPTED = Set.of("config", "container", "daemon", "event", "image", "label", "network",
            "node", "plugin", "scope", "secret", "service", "type", "volume");
    private static final String[] BY_NAME = {"container", "daemon", "plugin", "volume", "network", "node", "service",
            "secret", "config"};

    private final Map<String, Set<String>> fields;

    private EventFilter(Map<String, Set<String>> fields) {
        this.fields = fields;
    }

    /** A request's filters was refused: 400 with this message. */
    public static final class Invalid extends IllegalArgumentException {
        Invalid(String message) {
            super(message);
        }
    }

    /**
     * @param raw the {@code filters} parameter, URL-decoded (null or blank: everything)
     * @throws Invalid for JSON that is not an object of lists or maps, or a key dockerd does not know
     */
    public static EventFilter parse(String raw) {
        Map<String, Set<String>> fields;
        try {
            fields = FilterArgs.parse(raw);
        } catch (FilterArgs.Malformed e) {
            throw new Invalid("invalid filter: " + raw);
        }
        for (String key : fields.keySet()) {
            if (!ACCEPTED.contains(key)) {
                throw new Invalid("invalid filter '" + key + "'");
            }
        }
        return new EventFilter(fields);
    }

    /** Whether the event passes every filter. */
    public boolean includes(DockerEvent e) {
        if (!matchEvent(e.action()) || !exact("type", e.type()) || !exact("scope", "local")) {
            return false;
        }
        for (String key : BY_NAME) {
            if (!fuzzy(key, e.actorId()) && !fuzzy(key, e.attributes().get("name"))) {
                return false;
            }
        }
        return matchImage(e) && matchLabels(e.attributes());
    }

    private boolean matchEvent(String action) {
        Set<String> values = fields.get("event");
        if (values == null || values.isEmpty()) {
            return true;
        }
        // dockerd prefix-matches these, whose actions carry a suffix ("exec_start: sh -c ...")
        if (values.contains("health_status") || values.contains("exec_create") || values.contains("exec_start")) {
            return fuzzy("event", action);
        }
        return values.contains(action);
    }

    private boolean exact(String key, String source) {
        Set<String> values = fields.get(key);
        return values == null || values.isEmpty() || values.contains(source);
    }

    private boolean fuzzy(String key, String source) {
        Set<String> values = fields.get(key);
        if (values == null || values.isEmpty()) {
            return true;
        }
        if (source == null) {
            return false;
        }
        for (String v : values) {
            if (source.startsWith(v)) {
                return true;
            }
        }
        return false;
    }

    private boolean matchImage(DockerEvent e) {
        Set<String> values = fields.get("image");
        if (values == null || values.isEmpty()) {
            return true;
        }
        String name = e.attributes().get(e.type().equals("image") ? "name" : "image");
        return values.contains(e.actorId()) || name != null && values.contains(name)
                || values.contains(stripTag(e.actorId())) || name != null && values.contains(stripTag(name));
    }

    /** {@code busybox:1.36} is {@code busybox}; a registry port ({@code host:5000/x}) is not a tag. */
    private static String stripTag(String ref) {
        if (ref.startsWith("sha256:")) {
            return ref;
        }
        int at = ref.indexOf('@');
        if (at >= 0) {
            ref = ref.substring(0, at);
        }
        int colon = ref.lastIndexOf(':');
        return colon > ref.lastIndexOf('/') ? ref.substring(0, colon) : ref;
    }

    private boolean matchLabels(Map<String, String> attributes) {
        Set<String> values = fields.get("label");
        if (values == null) {
            return true;
        }
        for (String v : values) {
            int eq = v.indexOf('=');
            String key = eq < 0 ? v : v.substring(0, eq);
            String value = attributes.get(key);
            if (value == null || eq >= 0 && !value.equals(v.substring(eq + 1))) {
                return false;
            }
        }
        return true;
    }
}
