package dev.berth.container.domain;

import dev.berth.events.DomainException;

import java.util.List;
import java.util.Map;

/**
 * The state of a tenant's containers: id to current name. Names are unique in it, which is why the tenant's
 * containers form one aggregate.
 */
public record Containers(Map<String, String> namesById) {

    public static final Containers NONE = new Containers(Map.of());

    /** The id holding a name, or null. */
    public String idOfName(String name) {
        for (var e : namesById.entrySet()) {
            if (e.getValue().equals(name)) {
                return e.getKey();
            }
        }
        return null;
    }

    /**
     * Resolves a reference as Docker does: a full id, then a name (a leading slash is allowed), then a unique id prefix.
     *
     * @throws DomainException 404 {@code No such container: x}; 400 when a prefix matches several containers
     */
    public String resolve(String reference) {
        String id = resolveOrNull(namesById.keySet(), reference, this::idOfName);
        if (id == null) {
            throw DomainException.notFound("No such container: " + reference);
        }
        return id;
    }

    /** Shared by the decider and the read side so both resolve references the same way. */
    public static String resolveOrNull(Iterable<String> ids, String reference,
                                       java.util.function.Function<String, String> byName) {
        if (reference == null || reference.isEmpty()) {
            return null;
        }
        for (String id : ids) {
            if (id.equals(reference)) {
                return id;
            }
        }
        String named = byName.apply(reference.startsWith("/") ? reference.substring(1) : reference);
        if (named != null) {
            return named;
        }
        List<String> matches = new java.util.ArrayList<>();
        for (String id : ids) {
            if (id.startsWith(reference)) {
                matches.add(id);
            }
        }
        if (matches.size() > 1) {
            throw DomainException.badRequest("Multiple IDs found with provided prefix: " + reference);
        }
        return matches.isEmpty() ? null : matches.get(0);
    }
}
