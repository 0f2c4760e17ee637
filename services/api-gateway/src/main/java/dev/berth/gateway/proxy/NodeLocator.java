package dev.berth.gateway.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.gateway.api.Headers;
import dev.berth.gateway.config.GatewayConfig;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Asks container-service where a container (or an exec's container) runs: {@code GET /_berth/locate/containers/{ref}}
 * or {@code /_berth/locate/exec/{id}} with the caller's tenant.
 *
 * <p>One shared HTTP/1.1 client, so lookups reuse kept-alive connections: a lookup is one request on a warm
 * connection, not a new TCP handshake per {@code docker logs}.
 */
public final class NodeLocator {

    /** The answer of a lookup. */
    public sealed interface Result {
    }

    /**
     * The container and the node serving it.
     *
     * @param containerId the full container id
     * @param node        the node's id (for messages)
     * @param host        the node data plane's host
     * @param port        the node data plane's port
     */
    public record Located(String containerId, String node, String host, int port, String name) implements Result {
    }

    /** container-service refused (no such container, ambiguous prefix...): passed to the client as it is. */
    public record Refused(int status, String contentType, byte[] body) implements Result {
    }

    /** container-service could not be asked: 503 for the client. */
    public static final class Unavailable extends RuntimeException {
        Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** container-service answered something that is not a location: 502 for the client. */
    public static final class BadAnswer extends RuntimeException {
        BadAnswer(String message) {
            super(message);
        }
    }

    private final GatewayConfig config;
    private final ObjectMapper json;
    private final HttpClient http;

    public NodeLocator(GatewayConfig config, ObjectMapper json) {
        this.config = config;
        this.json = json;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(config.containerService().connectTimeout())
                .build();
    }

    /**
     * Looks a target up.
     *
     * @return a future of {@link Located} or {@link Refused}; it fails with {@link Unavailable} when container-service
     * cannot be reached or does not answer in time, and with {@link BadAnswer} when its answer is not a location
     */
    public CompletableFuture<Result> locate(DataPlane.Target target, String tenant) {
        GatewayConfig.Backend cs = config.containerService();
        String ref = URLEncoder.encode(QueryStringDecoder.decodeComponent(target.ref()), StandardCharsets.UTF_8)
                .replace("+", "%20");
        String prefix = target.kind() == DataPlane.Kind.CONTAINER ? "/_berth/locate/containers/" : "/_berth/locate/exec/";
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + cs.host() + ":" + cs.port() + prefix + ref))
                .timeout(config.dataPlane().locateTimeout())
                .header(Headers.TENANT, tenant)
                .header("Accept", "application/json")
                .GET()
                .build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray())
                .handle((response, e) -> {
                    if (e != null) {
                        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                        String why = cause instanceof HttpTimeoutException ? "did not answer in time" : "is unavailable";
                        throw new Unavailable("container-service " + why, cause);
                    }
                    return result(response);
                });
    }

    private Result result(HttpResponse<byte[]> response) {
        if (response.statusCode() != 200) {
            return new Refused(response.statusCode(),
                    response.headers().firstValue("Content-Type").orElse("application/json"), response.body());
        }
        JsonNode body;
        try {
            body = json.readTree(response.body());
        } catch (Exception e) {
            throw new BadAnswer("container-service gave an unreadable location");
        }
        String id = body.path("Id").asText("");
        String address = body.path("Address").asText("");
        int colon = address.lastIndexOf(':');
        if (id.isEmpty() || colon <= 0) {
            throw new BadAnswer("container-service gave no node address for the container");
        }
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new BadAnswer("container-service gave a malformed node address: " + address);
        }
        String host = address.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new Located(id, body.path("Node").asText(host), host, port, body.path("Name").asText(""));
    }
}
