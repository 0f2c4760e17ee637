package dev.berth.container.node;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The read side of the distribution API's blob protocol as image-service serves it to node agents: {@code GET /v2/}
 * and {@code GET|HEAD /v2/<name>/blobs/<digest>} (any repository name; 404 {@code BLOB_UNKNOWN} otherwise). Stands
 * in for image-service, which these tests do not run.
 */
public final class BlobRegistry implements AutoCloseable {

    private static final Pattern BLOB = Pattern.compile("/v2/(.+)/blobs/(sha256:[0-9a-f]{64})");

    private final HttpServer server;
    private final Map<String, byte[]> blobs = new ConcurrentHashMap<>();

    public BlobRegistry() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "test-registry");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/v2/", this::handle);
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    public void put(String digest, byte[] blob) {
        blobs.put(digest, blob);
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getPath();
            boolean head = ex.getRequestMethod().equals("HEAD");
            ex.getResponseHeaders().add("Docker-Distribution-Api-Version", "registry/2.0");
            if (path.equals("/v2/")) {
                send(ex, 200, "{}".getBytes(StandardCharsets.UTF_8), "application/json", head);
                return;
            }
            Matcher m = BLOB.matcher(path);
            byte[] blob = m.matches() && (head || ex.getRequestMethod().equals("GET")) ? blobs.get(m.group(2)) : null;
            if (blob == null) {
                send(ex, 404, "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown to registry\"}]}"
                        .getBytes(StandardCharsets.UTF_8), "application/json", head);
                return;
            }
            ex.getResponseHeaders().add("Docker-Content-Digest", m.group(2));
            send(ex, 200, blob, "application/octet-stream", head);
        }
    }

    private static void send(HttpExchange ex, int status, byte[] body, String type, boolean head) throws IOException {
        ex.getResponseHeaders().add("Content-Type", type);
        if (head) {
            ex.getResponseHeaders().add("Content-Length", Integer.toString(body.length));
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
