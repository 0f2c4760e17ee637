package dev.berth.gateway.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.events.EventEnvelope;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Berth's domain events (docs/events.md) as the Engine API's event messages. The one place where event types meet
 * Docker's actions; a type without a Docker counterpart ({@code start-failed}, image or node internals) gives
 * nothing. Payloads are read leniently: unknown fields are ignored and a missing field is an empty attribute.
 */
public final class EventTranslation {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTAINER = "dev.berth.container.";
    private static final String IMAGE = "dev.berth.image.";
    private static final String NETWORK = "dev.berth.network.";
    private static final String VOLUME = "dev.berth.volume.";
    private static final Map<String, String> SIGNALS = Map.ofEntries(
            Map.entry("HUP", "1"), Map.entry("INT", "2"), Map.entry("QUIT", "3"), Map.entry("ILL", "4"),
            Map.entry("TRAP", "5"), Map.entry("ABRT", "6"), Map.entry("IOT", "6"), Map.entry("BUS", "7"),
            Map.entry("FPE", "8"), Map.entry("KILL", "9"), Map.entry("USR1", "10"), Map.entry("SEGV", "11"),
            Map.entry("USR2", "12"), Map.entry("PIPE", "13"), Map.entry("ALRM", "14"), Map.entry("TERM", "15"),
            Map.entry("STKFLT", "16"), Map.entry("CHLD", "17"), Map.entry("CONT", "18"), Map.entry("STOP", "19"),
            Map.entry("TSTP", "20"), Map.entry("TTIN", "21"), Map.entry("TTOU", "22"), Map.entry("URG", "23"),
            Map.entry("XCPU", "24"), Map.entry("XFSZ", "25"), Map.entry("VTALRM", "26"), Map.entry("PROF", "27"),
            Map.entry("WINCH", "28"), Map.entry("IO", "29"), Map.entry("POLL", "29"), Map.entry("PWR", "30"),
            Map.entry("SYS", "31"));

    private EventTranslation() {
    }

    /**
     * @return the Docker events of one domain event, in the order dockerd emits them ({@code oom} before
     * {@code die}); empty for types Docker has no event for or a payload that is not a JSON object
     */
    public static List<DockerEvent> translate(EventEnvelope e) {
        JsonNode p;
        try {
            p = JSON.readTree(e.data());
        } catch (Exception malformed) {
            return List.of();
        }
        if (p == null || !p.isObject()) {
            return List.of();
        }
        Instant time = e.time() == null ? Instant.now() : e.time();
        String type = e.type();
        if (type.startsWith(CONTAINER)) {
            return container(verb(type, CONTAINER), p, time);
        }
        if (type.startsWith(IMAGE)) {
            return image(verb(type, IMAGE), p, time);
        }
        if (type.startsWith(NETWORK)) {
            return network(verb(type, NETWORK), p, time);
        }
        if (type.startsWith(VOLUME)) {
            return volume(verb(type, VOLUME), p, time);
        }
        return List.of();
    }

    /** {@code dev.berth.container.started.v1} gives {@code started}; only version 1 is known. */
    private static String verb(String type, String prefix) {
        String rest = type.substring(prefix.length());
        return rest.endsWith(".v1") ? rest.substring(0, rest.length() - 3) : "";
    }

    private static List<DockerEvent> container(String verb, JsonNode p, Instant time) {
        String id = text(p, "containerId");
        if (id.isEmpty()) {
            return List.of();
        }
        JsonNode spec = p.path("spec");
        String image = text(p, "image");
        if (image.isEmpty()) {
            image = text(spec, "image");
        }
        JsonNode labels = p.path("labels").isObject() ? p.path("labels") : spec.path("labels");
        String name = verb.equals("renamed") ? text(p, "newName") : text(p, "name");

        SortedMap<String, String> base = new TreeMap<>();
        if (labels.isObject()) {
            labels.fields().forEachRemaining(l -> base.put(l.getKey(), l.getValue().asText()));
        }
        if (!image.isEmpty() || !verb.equals("renamed")) {
            // a rename event carries no image (docs/containers.md); an empty attribute would claim one
            base.put("image", image);
        }
        base.put("name", name.startsWith("/") ? name.substring(1) : name);
        return switch (verb) {
            case "created" -> List.of(new DockerEvent("container", "create", id, base, time));
            case "started", "restarted-by-policy" -> List.of(new DockerEvent("container", "start", id, base, time));
            case "died" -> {
                SortedMap<String, String> die = new TreeMap<>(base);
                die.put("exitCode", Integer.toString(p.path("exitCode").asInt(0)));
                DockerEvent dieEvent = new DockerEvent("container", "die", id, die, time);
                yield p.path("oomKilled").asBoolean(false)
                        ? List.of(new DockerEvent("container", "oom", id, base, time), dieEvent)
                        : List.of(dieEvent);
            }
            case "killed" -> {
                SortedMap<String, String> kill = new TreeMap<>(base);
                kill.put("signal", signalNumber(text(p, "signal")));
                yield List.of(new DockerEvent("container", "kill", id, kill, time));
            }
            case "stopped" -> List.of(new DockerEvent("container", "stop", id, base, time));
            case "restarted" -> List.of(new DockerEvent("container", "restart", id, base, time));
            case "paused" -> List.of(new DockerEvent("container", "pause", id, base, time));
            case "unpaused" -> List.of(new DockerEvent("container", "unpause", id, base, time));
            case "renamed" -> {
                SortedMap<String, String> rename = new TreeMap<>(base);
                String old = text(p, "oldName");
                rename.put("oldName", old.startsWith("/") ? old : "/" + old);
                yield List.of(new DockerEvent("container", "rename", id, rename, time));
            }
            case "removed" -> List.of(new DockerEvent("container", "destroy", id, base, time));
            default -> List.of();
        };
    }

    /** Docker's kill event names the signal by number; a name as the client gave it is turned into one. */
    static String signalNumber(String signal) {
        if (signal.isEmpty()) {
            return "9";
        }
        String upper = signal.toUpperCase(java.util.Locale.ROOT);
        String bare = upper.startsWith("SIG") ? upper.substring(3) : upper;
        return SIGNALS.getOrDefault(bare, signal);
    }

    private static List<DockerEvent> image(String verb, JsonNode p, Instant time) {
        String id = text(p, "imageId");
        if (id.isEmpty()) {
            return List.of();
        }
        String reference = text(p, "reference");
        String action = switch (verb) {
            case "imported" -> "import";
            case "loaded" -> "load";
            case "pulled" -> "pull";
            case "tagged" -> "tag";
            case "untagged" -> "untag";
            case "deleted" -> "delete";
            default -> null;
        };
        if (action == null) {
            return List.of();
        }
        SortedMap<String, String> attributes = new TreeMap<>();
        // tag and untag name the reference concerned, as `docker events` users look for it; the others the image
        attributes.put("name", reference.isEmpty() ? id : reference);
        return List.of(new DockerEvent("image", action, id, attributes, time));
    }

    private static List<DockerEvent> network(String verb, JsonNode p, Instant time) {
        String id = text(p, "id");
        if (id.isEmpty()) {
            return List.of();
        }
        SortedMap<String, String> attributes = new TreeMap<>();
        attributes.put("name", text(p, "name"));
        return switch (verb) {
            case "created" -> {
                if (p.path("predefined").asBoolean(false)) {
                    // bridge, host and none appear with a tenant's first use; dockerd reports none for them either
                    yield List.of();
                }
                attributes.put("type", text(p, "driver"));
                yield List.of(new DockerEvent("network", "create", id, attributes, time));
            }
            case "removed" -> List.of(new DockerEvent("network", "destroy", id, attributes, time));
            default -> List.of();
        };
    }

    private static List<DockerEvent> volume(String verb, JsonNode p, Instant time) {
        String name = text(p, "name");
        if (name.isEmpty()) {
            return List.of();
        }
        SortedMap<String, String> attributes = new TreeMap<>();
        String driver = text(p, "driver");
        attributes.put("driver", driver.isEmpty() ? "local" : driver);
        return switch (verb) {
            case "created" -> List.of(new DockerEvent("volume", "create", name, attributes, time));
            case "removed" -> List.of(new DockerEvent("volume", "destroy", name, attributes, time));
            default -> List.of();
        };
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.path(field);
        return v.isNull() || v.isMissingNode() ? "" : v.asText();
    }
}
