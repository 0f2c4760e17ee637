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
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The proxy's wire behaviour: bodies streamed both ways, headers flushed before the body exists, and hijacked
 * connections (attach/exec) passed through as raw pipes, half-close included.
 */
@QuarkusTest
@QuarkusTestResource(value = FakeServices.class, restrictToAnnotatedClass = true)
class ProxyStreamingTest {

    @Inject
    DockerApiServer server;

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void aChunkedUploadOfSeveralMegabytesReachesTheServiceIntactAndWhileStillBeingSent() throws Exception {
        FakeServices.image.resetLatches();
        byte[] data = new byte[8 * 1024 * 1024 + 17];
        new Random(42).nextBytes(data);
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("POST", "/v1.41/images/load?quiet=1", "Transfer-Encoding: chunked", "Content-Type: application/x-tar");
            c.writeChunk(data, 0, 65536);
            // the service sees the first bytes before the client has sent the rest: nothing waits for the whole body
            assertThat(FakeServices.image.awaitFirstBodyBytes(30)).isTrue();
            for (int off = 65536; off < data.length; off += 100_000) {
                c.writeChunk(data, off, Math.min(100_000, data.length - off));
            }
            c.endChunks();
            RawHttp.Response r = c.response(false);
            assertThat(r.status()).isEqualTo(200);
            JsonNode result = json.readTree(r.body());
            assertThat(result.path("Length").asLong()).isEqualTo(data.length);
            assertThat(result.path("Sha256").asText())
                    .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)));
        }
        assertThat(FakeServices.image.last("/images/load").header("Transfer-Encoding")).isEqualTo("chunked");
    }

    @Test
    void responseHeadersArriveBeforeTheServiceHasABody() throws Exception {
        FakeServices.container.resetLatches();
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("POST", "/v1.50/containers/slow/wait?condition=next-exit", "Content-Length: 0");
            // the CLI sends wait before start and relies on these headers arriving now, not at exit
            RawHttp.Head head = c.head();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Transfer-Encoding")).isEqualTo("chunked");
            assertThat(head.header("Api-Version")).isEqualTo("1.51");
            FakeServices.container.releaseWait();
            assertThat(new String(c.chunk(), StandardCharsets.US_ASCII)).isEqualTo("{\"Error\":null,\"StatusCode\":0}\n");
            assertThat(c.chunk()).isNull();
            // and the connection is still good for the next request
            c.send("GET", "/_ping");
            assertThat(c.response(false).text()).isEqualTo("OK");
        }
    }

    @Test
    void attachIsHijackedAndOutputKeepsFlowingAfterTheClientHalfCloses() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("POST", "/v1.50/containers/c1/attach?stderr=1&stdout=1&stream=1",
                    "Content-Length: 0", "Connection: Upgrade", "Upgrade: tcp", "Content-Type: text/plain");
            RawHttp.Head head = c.head();
            assertThat(head.status()).isEqualTo(101);
            assertThat(head.header("Connection")).isEqualTo("Upgrade");
            assertThat(head.header("Upgrade")).isEqualTo("tcp");
            assertThat(head.header("Content-Type")).isEqualTo("application/vnd.docker.raw-stream");
            assertThat(head.header("Api-Version")).isEqualTo("1.51");
            // what the docker CLI does without stdin, 1 ms after the 101
            c.shutdownOutput();
            // the service only writes once it has seen the FIN, so this proves the FIN went through and output came back
            assertThat(c.readToEnd()).isEqualTo(concat(
                    FakeService.frame(1, "hello from node-agent\n"),
                    FakeService.frame(2, "stdin was: \n")));
        }
        // the container's node answered, reached by its full id after container-service located it
        FakeService.Received r = FakeServices.node.last("/containers/" + FakeService.idOf("c1") + "/attach?stderr=1&stdout=1&stream=1");
        assertThat(r).isNotNull();
        assertThat(r.header("Upgrade")).isEqualTo("tcp");
        assertThat(r.header("Connection")).isEqualTo("Upgrade");
        assertThat(r.header("X-Berth-Tenant")).as("nodes have no tenants").isNull();
        assertThat(r.header("X-Berth-Api-Version")).isEqualTo("1.50");
        assertThat(FakeServices.container.last("/_berth/locate/containers/c1").header("X-Berth-Tenant")).isEqualTo("default");
    }

    @Test
    void stdinSentRightBehindTheRequestIsPipedNotParsedAsHttp() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            byte[] body = "{\"Detach\":false,\"Tty\":false}\n".getBytes(StandardCharsets.US_ASCII);
            byte[] stdin = "GET /not-a-request HTTP/1.1\r\n\r\nline two\n".getBytes(StandardCharsets.US_ASCII);
            String requestHead = "POST /v1.50/exec/e1/start HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length
                    + "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\n\r\n";
            // request, body and stdin in one write, before any answer: as `echo ... | docker exec -i` can do
            c.write(concat(requestHead.getBytes(StandardCharsets.US_ASCII), body, stdin));
            assertThat(c.head().status()).isEqualTo(101);
            c.shutdownOutput();
            assertThat(c.readToEnd()).isEqualTo(concat(
                    FakeService.frame(1, "hello from node-agent\n"),
                    FakeService.frame(2, "stdin was: " + new String(stdin, StandardCharsets.US_ASCII) + "\n")));
        }
        assertThat(FakeServices.node.last("/exec/e1/start").bodyLength()).isEqualTo(29);
        assertThat(FakeServices.container.last("/_berth/locate/exec/e1")).isNotNull();
    }

    @Test
    void execStartWithoutUpgradeGetsTheCloseDelimitedRawStream() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            // docker-java (Testcontainers) sends no Upgrade headers and nulls in the body
            c.send("POST", "/v1.32/exec/e2/start", "{\"Detach\":null,\"Tty\":null}".getBytes(StandardCharsets.US_ASCII),
                    "content-type: application/json", "Connection: keep-alive", "User-Agent: tc-java/1.21.4");
            RawHttp.Head head = c.head();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Content-Type")).isEqualTo("application/vnd.docker.raw-stream");
            assertThat(head.header("Content-Length")).isNull();
            assertThat(head.header("Transfer-Encoding")).isNull();
            // the body ends where the connection ends
            assertThat(c.readToEnd()).isEqualTo(concat(FakeService.frame(1, "exec-out\n"), FakeService.frame(2, "exec-err\n")));
        }
        assertThat(FakeServices.node.last("/exec/e2/start").header("X-Berth-Api-Version")).isEqualTo("1.32");
    }

    @Test
    void aLargeResponseIsStreamedBackWhole() throws Exception {
        // the echo of a big header set stands in for a body; the load test above covers the other direction
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v1.41/images/get?names=busybox",
                "X-Registry-Auth: " + "e30=".repeat(4000));
        assertThat(r.status()).isEqualTo(200);
        assertThat(json.readTree(r.body()).path("Headers").path("x-registry-auth").asText()).hasSize(16000);
    }

    @Test
    void expectContinueIsAnsweredByTheGatewayAndTheBodyThenFlows() throws Exception {
        byte[] data = new byte[300_000];
        new Random(7).nextBytes(data);
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("POST", "/v1.41/images/load", "Content-Length: " + data.length, "Expect: 100-continue");
            assertThat(c.head().status()).isEqualTo(100);
            c.write(data);
            RawHttp.Response r = c.response(false);
            assertThat(r.status()).isEqualTo(200);
            assertThat(json.readTree(r.body()).path("Length").asLong()).isEqualTo(data.length);
        }
        // the service never sees the Expect header: the gateway already answered it
        assertThat(FakeServices.image.last("/images/load").header("Expect")).isNull();
    }

    @Test
    void whenTheClientStopsFollowingTheServiceConnectionIsClosedToo() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("GET", "/v1.32/containers/follow/logs?stdout=true&stderr=true&follow=true&since=0");
            assertThat(c.head().status()).isEqualTo(200);
            assertThat(c.chunk()).isEqualTo(FakeService.frame(1, "ready\n"));
        }
        // Testcontainers closes its socket once its log regex matched; nothing may linger behind the gateway
        assertThat(FakeServices.node.awaitFollowerGone(30)).isTrue();
    }

    @Test
    void headResponsesKeepTheirHeadersAndTheConnectionStaysUsable() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("HEAD", "/v1.41/containers/c1/archive?path=%2Fwww");
            RawHttp.Response r = c.response(true);
            assertThat(FakeServices.node.last("/containers/" + FakeService.idOf("c1") + "/archive?path=%2Fwww").method())
                    .isEqualTo("HEAD");
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Content-Length")).isEqualTo("1234");
            assertThat(r.header("X-Docker-Container-Path-Stat")).isEqualTo("e30=");
            c.send("GET", "/_ping");
            assertThat(c.response(false).text()).isEqualTo("OK");
        }
    }

    @Test
    void aServiceThatDropsTheConnectionWithoutAnswerGives502NotA500() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v1.41/containers/crash/json");
        assertThat(r.status()).isEqualTo(502);
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
        assertThat(json.readTree(r.body()).path("message").asText()).isEqualTo("container-service gave no answer");
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
