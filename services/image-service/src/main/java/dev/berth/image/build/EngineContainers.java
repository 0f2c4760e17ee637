package dev.berth.image.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.engineapi.Tenants;
import dev.berth.image.store.BlobStore;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * RUN containers through container-service's Engine API ({@code berth.build.containers-url}): create, start, wait,
 * logs, then the filesystem diff from the node that ran it ({@code GET /_berth/locate/containers/{id}} gives its
 * data-plane address, which answers {@code GET /containers/{id}/diff} with an OCI layer tar).
 */
@ApplicationScoped
public class EngineContainers implements BuildContainers {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String base;
    private final BlobStore blobs;

    public EngineContainers(@ConfigProperty(name = "berth.build.containers-url", defaultValue = "http://127.0.0.1:7102")
                            String base, BlobStore blobs) {
        this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
        this.blobs = blobs;
    }

    @Override
    public String create(String tenant, String imageId, Spec spec) {
        ObjectNode body = JSON.createObjectNode();
        body.put("Image", imageId);
        var cmd = body.putArray("Cmd");
        spec.cmd().forEach(cmd::add);
        // the image's ENTRYPOINT does not wrap a RUN command
        body.putArray("Entrypoint");
        var env = body.putArray("Env");
        spec.env().forEach(env::add);
        body.put("WorkingDir", spec.workingDir());
        body.put("User", spec.user());
        body.put("AttachStdout", true);
        body.put("AttachStderr", true);
        body.putObject("Labels").put("dev.berth.build", "true");
        JsonNode answer = send(tenant, "POST", "/containers/create", body.toString(), 201);
        return answer.path("Id").asText();
    }

    @Override
    public int run(String tenant, String containerId, Consumer<String> output) {
        send(tenant, "POST", "/containers/" + containerId + "/start", "", 204);
        JsonNode waited = send(tenant, "POST", "/containers/" + containerId + "/wait", "", 200);
        int code = waited.path("StatusCode").asInt(-1);
        try {
            HttpResponse<InputStream> logs = http.send(request(tenant, "GET", base + "/containers/" + containerId
                    + "/logs?stdout=1&stderr=1", ""), HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = logs.body()) {
                if (logs.statusCode() == 200) {
                    frames(in, output);
                }
            }
        } catch (IOException e) {
            throw new BuildException(500, "cannot read the output of the RUN container: " + e.getMessage(), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BuildException(500, "interrupted", null);
        }
        return code;
    }

    @Override
    public BlobStore.Staged diff(String tenant, String containerId) {
        JsonNode located = send(tenant, "GET", "/_berth/locate/containers/" + containerId, null, 200);
        String address = located.path("Address").asText("");
        if (address.isEmpty()) {
            throw new BuildException(500, "the node of container " + containerId + " is unknown", null);
        }
        String url = (address.startsWith("http") ? address : "http://" + address) + "/containers/" + containerId
                + "/diff";
        try {
            HttpResponse<InputStream> r = http.send(request(tenant, "GET", url, null),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = r.body()) {
                if (r.statusCode() != 200) {
                    throw new BuildException(500, "the node could not give the changes of container " + containerId
                            + ": " + new String(in.readAllBytes(), StandardCharsets.UTF_8).strip(), null);
                }
                return blobs.stageLayer(in);
            }
        } catch (IOException e) {
            throw new BuildException(500, "cannot read the changes of container " + containerId + ": "
                    + e.getMessage(), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BuildException(500, "interrupted", null);
        }
    }

    @Override
    public void remove(String tenant, String containerId) {
        try {
            http.send(request(tenant, "DELETE", base + "/containers/" + containerId + "?force=1", null),
                    HttpResponse.BodyHandlers.discarding());
        } catch (IOException e) {
            throw new BuildException(500, "cannot remove container " + containerId + ": " + e.getMessage(), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private JsonNode send(String tenant, String method, String path, String body, int expected) {
        try {
            HttpResponse<String> r = http.send(request(tenant, method, base + path, body),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != expected && !(expected == 201 && r.statusCode() == 200)) {
                String message = r.body();
                try {
                    message = JSON.readTree(r.body()).path("message").asText(r.body());
                } catch (IOException ignored) {
                    // not JSON: show it as it came
                }
                throw new BuildException(r.statusCode() >= 500 ? 500 : 400, message, null);
            }
            String text = r.body();
            return text == null || text.isBlank() ? JSON.createObjectNode() : JSON.readTree(text);
        } catch (IOException e) {
            throw new BuildException(500, "RUN needs container-service at " + base + ": " + e.getMessage(), null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BuildException(500, "interrupted", null);
        }
    }

    private HttpRequest request(String tenant, String method, String url, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header(Tenants.HEADER, tenant)
                .header("Content-Type", "application/json");
        return b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body)).build();
    }

    /** Docker's stdcopy framing: 8-byte headers (stream, 0, 0, 0, big-endian length), then the payload. */
    static void frames(InputStream in, Consumer<String> output) throws IOException {
        DataInputStream data = new DataInputStream(in);
        byte[] header = new byte[8];
        while (true) {
            try {
                data.readFully(header);
            } catch (EOFException e) {
                return;
            }
            int length = ((header[4] & 0xff) << 24) | ((header[5] & 0xff) << 16) | ((header[6] & 0xff) << 8)
                    | (header[7] & 0xff);
            byte[] payload = data.readNBytes(length);
            output.accept(new String(payload, StandardCharsets.UTF_8));
        }
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
