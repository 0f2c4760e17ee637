package dev.berth.gateway.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.gateway.api.DockerApiServer;
import dev.berth.gateway.support.FakeService;
import dev.berth.gateway.support.FakeServices;
import dev.berth.gateway.support.RawHttp;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Data-plane requests go to the node that runs the container, found through container-service's lookup; lifecycle
 * requests stay with container-service; a refused lookup reaches the client as container-service gave it.
 */
@QuarkusTest
@QuarkusTestResource(value = FakeServices.class, restrictToAnnotatedClass = true)
class DataPlaneRoutingTest {

    @Inject
    DockerApiServer server;

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void logsComeFromTheNodeAddressedByTheFullId() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v1.41/containers/web/logs?stdout=1&stderr=1&tail=all");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(concat(FakeService.frame(1, "line one\n"), FakeService.frame(2, "line two\n")));
        FakeService.Received atNode = FakeServices.node.last("/containers/" + FakeService.idOf("web") + "/logs");
        assertThat(atNode.target()).endsWith("/logs?stdout=1&stderr=1&tail=all");
        assertThat(atNode.header("X-Berth-Api-Version")).isEqualTo("1.41");
        assertThat(FakeServices.container.last("/_berth/locate/containers/web").header("X-Berth-Tenant")).isEqualTo("default");
        assertThat(FakeServices.container.last("/containers/web/logs")).as("container-service is not on the byte path").isNull();
    }

    @Test
    void aNameWithItsSlashIsLookedUpAsTheClientWroteIt() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v1.41/containers/%2Fslashed/top");
        assertThat(r.status()).isEqualTo(200);
        assertThat(FakeServices.container.last("/_berth/locate/containers/%2Fslashed")).isNotNull();
        assertThat(json.readTree(r.body()).path("Target").asText())
                .isEqualTo("/containers/" + FakeService.idOf("/slashed") + "/top");
    }

    @Test
    void anArchiveUploadIsStreamedToTheNodeIntact() throws Exception {
        byte[] data = new byte[3 * 1024 * 1024 + 5];
        new Random(3).nextBytes(data);
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("PUT", "/v1.41/containers/box/archive?path=%2Ftmp&noOverwriteDirNonDir=true",
                    "Transfer-Encoding: chunked", "Content-Type: application/x-tar");
            for (int off = 0; off < data.length; off += 70_000) {
                c.writeChunk(data, off, Math.min(70_000, data.length - off));
            }
            c.endChunks();
            RawHttp.Response r = c.response(false);
            assertThat(r.status()).isEqualTo(200);
            JsonNode echo = json.readTree(r.body());
            assertThat(echo.path("Service").asText()).isEqualTo("node-agent");
            assertThat(echo.path("Target").asText())
                    .isEqualTo("/containers/" + FakeService.idOf("box") + "/archive?path=%2Ftmp&noOverwriteDirNonDir=true");
        }
        FakeService.Received atNode = FakeServices.node.last("/containers/" + FakeService.idOf("box") + "/archive");
        assertThat(atNode.method()).isEqualTo("PUT");
        assertThat(atNode.bodyLength()).isEqualTo(data.length);
        assertThat(atNode.bodySha256()).isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)));
    }

    @Test
    void statsAndExecInspectGoToTheNodeLifecycleStaysWithContainerService() throws Exception {
        assertThat(json.readTree(RawHttp.call(server.port(), "GET", "/v1.41/containers/box/stats?stream=0").body())
                .path("Service").asText()).isEqualTo("node-agent");
        assertThat(json.readTree(RawHttp.call(server.port(), "GET", "/v1.41/exec/x1/json").body())
                .path("Service").asText()).isEqualTo("node-agent");
        assertThat(FakeServices.node.last("/exec/x1/json")).as("exec paths reach the node unchanged").isNotNull();
        for (String[] call : new String[][] {{"GET", "/v1.41/containers/box/json"}, {"POST", "/v1.41/containers/box/start"},
                {"POST", "/v1.41/containers/box/exec"}, {"POST", "/v1.41/containers/box/rename?name=b"},
                {"DELETE", "/v1.41/containers/box"}}) {
            RawHttp.Response r = RawHttp.call(server.port(), call[0], call[1]);
            assertThat(json.readTree(r.body()).path("Service").asText()).as(call[1]).isEqualTo("container-service");
        }
    }

    @Test
    void anUnknownContainerGetsContainerServicesAnswerUnchanged() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v1.41/containers/missing1/logs?stdout=1");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
        assertThat(r.header("Api-Version")).isEqualTo("1.51");
        assertThat(r.text()).isEqualTo("{\"message\":\"No such container: missing1\"}");

        RawHttp.Response ambiguous = RawHttp.call(server.port(), "GET", "/v1.41/containers/ambiguous/top");
        assertThat(ambiguous.status()).isEqualTo(400);
        assertThat(json.readTree(ambiguous.body()).path("message").asText()).contains("ambiguous");

        RawHttp.Response exec = RawHttp.call(server.port(), "GET", "/v1.41/exec/missing-exec/json");
        assertThat(exec.status()).isEqualTo(404);
        assertThat(json.readTree(exec.body()).path("message").asText()).isEqualTo("No such exec instance: missing-exec");
    }

    @Test
    void anAttachToAnUnknownContainerIsRefusedAndTheConnectionStaysHttp() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("POST", "/v1.50/containers/missing2/attach?stream=1&stdout=1", "Content-Length: 0",
                    "Connection: Upgrade", "Upgrade: tcp");
            RawHttp.Response r = c.response(false);
            assertThat(r.status()).isEqualTo(404);
            assertThat(json.readTree(r.body()).path("message").asText()).isEqualTo("No such container: missing2");
        }
    }

    @Test
    void aNodeThatIsDownGives502NamingIt() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v1.41/containers/down1/logs?stdout=1");
        assertThat(r.status()).isEqualTo(502);
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
        assertThat(json.readTree(r.body()).path("message").asText()).startsWith("node node-1 at 127.0.0.1:").contains("unreachable");
    }

    @Test
    void anUploadForADownNodeIsAnsweredNotHung() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("PUT", "/v1.41/containers/down2/archive?path=%2F", "Transfer-Encoding: chunked");
            byte[] data = new byte[16 * 1024];
            for (int i = 0; i < 32; i++) {
                c.writeChunk(data, 0, data.length);
            }
            RawHttp.Response r = c.response(false);
            assertThat(r.status()).isEqualTo(502);
            assertThat(r.header("Connection")).isEqualTo("close");
        }
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
