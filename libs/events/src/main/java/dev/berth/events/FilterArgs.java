package dev.berth.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The JSON of the Docker Engine API's {@code filters} query parameter (Docker's {@code filters.Args}), in both forms
 * clients send: the map form {@code {"label":{"a=b":true}}} (docker CLI) and the older list form
 * {@code {"label":["a=b"]}} (docker-compose v1, docker-py, Testcontainers). In the map form only values mapped to a
 * true boolean count. Which keys an endpoint accepts, and how values match, is the caller's.
 */
public final class FilterArgs {

    private static final ObjectMapper JSON = new ObjectMapper();

    private FilterArgs() {
    }

    /** The parameter is not an object of lists or maps of booleans. */
    public static final class Malformed extends IllegalArgumentException {
        Malformed(String raw) {
            super("invalid filters: " + raw);
        }
    }

    /**
     * @param raw the parameter's value, already URL-decoded (null or blank: no filter)
     * @return the values of each key (unmodifiable), keys in the order the client sent them
     * @throws Malformed with the message {@code invalid filters: <raw>}
     */
    public static Map<String, Set<String>> parse(String raw) {
        Map<String, Set<String>> fields = new LinkedHashMap<>();
        if (raw == null || raw.isBlank()) {
            return fields;
        }
        JsonNode root;
        try {
            root = JSON.readTree(raw);
        } catch (Exception e) {
            throw new Malformed(raw);
        }
        if (root == null || !root.isObject()) {
            throw new Malformed(raw);
        }
        Iterator<Map.Entry<String, JsonNode>> it = root.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> entry = it.next();
            Set<String> values = new LinkedHashSet<>();
            JsonNode node = entry.getValue();
            if (node.isArray()) {
                node.forEach(v -> values.add(v.asText()));
            } else if (node.isObject()) {
                node.fields().forEachRemaining(v -> {
                    if (v.getValue().asBoolean(false)) {
                        values.add(v.getKey());
                    }
                });
            } else {
                throw new Malformed(raw);
            }
            fields.put(entry.getKey(), Collections.unmodifiableSet(values));
        }
        return fields;
    }
}
