package dev.berth.gateway.proxy;

import io.netty.handler.codec.http.HttpMethod;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which Engine API requests are served by the node that runs the container rather than by container-service:
 * the byte streams (logs, attach, exec, archives, stats) that would otherwise pass through two hops.
 *
 * <p>The gateway asks container-service where the container (or the exec's container) is, then talks to that
 * node's data plane directly. Everything else under {@code /containers} and {@code /exec} (create, inspect,
 * lifecycle, wait, exec create...) stays with container-service, which owns the container's state.
 */
public final class DataPlane {

    private static final Pattern CONTAINER = Pattern.compile("^/containers/([^/]+)/(logs|attach|stats|top|changes|resize|archive|export)$");
    private static final Pattern EXEC = Pattern.compile("^/exec/([^/]+)/(start|resize|json)$");

    /** What the lookup is about: a container reference or an exec id. */
    public enum Kind { CONTAINER, EXEC }

    /**
     * A request bound for a node.
     *
     * @param kind   container or exec
     * @param ref    the reference as the client wrote it in the path (still URL-encoded)
     * @param action the endpoint after the reference ({@code logs}, {@code start}...)
     */
    public record Target(Kind kind, String ref, String action) {

        /** The path for the node: a container reference becomes the full id; exec paths stay as they are. */
        public String nodePath(String containerId) {
            return kind == Kind.CONTAINER ? "/containers/" + containerId + "/" + action : "/exec/" + ref + "/" + action;
        }
    }

    private DataPlane() {
    }

    /**
     * @param method       the request method
     * @param path         the path without version prefix and query
     * @return the target, or null when the request belongs to container-service
     */
    public static Target match(HttpMethod method, String path) {
        String m = method.name();
        Matcher c = CONTAINER.matcher(path);
        if (c.matches()) {
            String action = c.group(2);
            boolean node = switch (action) {
                case "logs", "stats", "top", "changes", "export" -> m.equals("GET");
                case "attach", "resize" -> m.equals("POST");
                case "archive" -> m.equals("GET") || m.equals("HEAD") || m.equals("PUT");
                default -> false;
            };
            return node ? new Target(Kind.CONTAINER, c.group(1), action) : null;
        }
        Matcher e = EXEC.matcher(path);
        if (e.matches()) {
            String action = e.group(2);
            boolean node = action.equals("json") ? m.equals("GET") : m.equals("POST");
            return node ? new Target(Kind.EXEC, e.group(1), action) : null;
        }
        return null;
    }
}
