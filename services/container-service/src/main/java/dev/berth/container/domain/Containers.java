package dev.berth.container.domain;

import dev.berth.events.DomainException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The state of a tenant's containers: each one's name, image, labels, node and lifecycle state. Names are unique in
 * it, which is why the tenant's containers form one aggregate.
 */
public record Containers(Map<String, Entry> byId) {

    public static final Containers NONE = new Containers(Map.of());

    /**
     * What the aggregate knows of one container.
     *
     * @param status  Docker's state name: created, running, paused, restarting, exited
     * @param network the network of its last start (kept so that a state report can restore it), or null
     */
    public record Entry(String name, String image, Map<String, String> labels, String nodeId, String status,
                        ContainerEvent.Network network) {

        public Entry withName(String newName) {
            return new Entry(newName, image, labels, nodeId, status, network);
        }

        public Entry withStatus(String newStatus) {
            return new Entry(name, image, labels, nodeId, newStatus, network);
        }

        public Entry running(String node, ContainerEvent.Network net) {
            return new Entry(name, image, labels, node == null ? nodeId : node, "running", net);
        }

        /** Running, paused or restarting: what Docker refuses to remove without force. */
        public boolean active() {
            return "running".equals(status) || "paused".equals(status) || "restarting".equals(status);
        }
    }

    /** Id to current name, in creation order. */
    public Map<String, String> namesById() {
        Map<String, String> names = new LinkedHashMap<>();
        byId.forEach((id, e) -> names.put(id, e.name()));
        return names;
    }

    /** The id holding a name, or null. */
    public String idOfName(String name) {
        for (var e : byId.entrySet()) {
            if (e.getValue().name().equals(name)) {
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
        String id = resolveOrNull(byId.keySet(), reference, this::idOfName);
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
