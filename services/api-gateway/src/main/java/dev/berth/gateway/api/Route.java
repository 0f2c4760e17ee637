package dev.berth.gateway.api;

/**
 * Where a Docker API request goes: answered by the gateway itself, or proxied to the service that owns its noun.
 */
public sealed interface Route {

    /** Endpoints the gateway answers itself. */
    enum Endpoint { PING, VERSION, INFO, EVENTS, SYSTEM_DF, SWARM }

    /** The services behind the gateway, named as they appear in error messages and configuration. */
    enum Service {
        IMAGE("image-service"), CONTAINER("container-service"), NETWORK("network-service"), VOLUME("volume-service");

        private final String displayName;

        Service(String displayName) {
            this.displayName = displayName;
        }

        public String displayName() {
            return displayName;
        }
    }

    record Local(Endpoint endpoint) implements Route {
    }

    record Proxy(Service service) implements Route {
    }

    /**
     * Routes an unversioned path.
     *
     * @param path      the path with any /vX.Y prefix removed
     * @param versioned whether the request carried a version prefix; the registry API /v2/ exists only without one
     * @return the route, or null when no route matches (Docker answers 404 "page not found")
     */
    static Route of(String path, boolean versioned) {
        if (!versioned && (path.equals("/v2") || path.startsWith("/v2/"))) {
            return new Proxy(Service.IMAGE);
        }
        // Berth's own image API (tag history and rollback, docs/images.md)
        if (path.startsWith("/_berth/tags/")) {
            return new Proxy(Service.IMAGE);
        }
        String first = firstSegment(path);
        boolean nested = path.length() > first.length() + 1;
        return switch (first) {
            case "_ping" -> nested ? null : new Local(Endpoint.PING);
            case "version" -> nested ? null : new Local(Endpoint.VERSION);
            case "info" -> nested ? null : new Local(Endpoint.INFO);
            case "events" -> nested ? null : new Local(Endpoint.EVENTS);
            case "system" -> path.equals("/system/df") ? new Local(Endpoint.SYSTEM_DF) : null;
            case "swarm", "nodes", "services", "tasks", "secrets", "configs" -> new Local(Endpoint.SWARM);
            case "containers", "exec" -> nested ? new Proxy(Service.CONTAINER) : null;
            case "images", "distribution" -> nested ? new Proxy(Service.IMAGE) : null;
            case "build", "commit", "auth" -> new Proxy(Service.IMAGE);
            case "networks" -> new Proxy(Service.NETWORK);
            case "volumes" -> new Proxy(Service.VOLUME);
            default -> null;
        };
    }

    private static String firstSegment(String path) {
        int end = path.indexOf('/', 1);
        return end < 0 ? path.substring(1) : path.substring(1, end);
    }
}
