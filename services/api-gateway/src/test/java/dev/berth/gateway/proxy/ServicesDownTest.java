package dev.berth.gateway.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.gateway.api.DockerApiServer;
import dev.berth.gateway.events.EventStreams;
import dev.berth.gateway.support.RawHttp;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Every service down: proxied calls get 503 naming the service, /info still answers. */
@QuarkusTest
@TestProfile(ServicesDownTest.NothingListens.class)
class ServicesDownTest {

    public static class NothingListens implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> config = new HashMap<>();
            for (String service : new String[] {"image", "container", "network", "volume"}) {
                config.put("berth.gateway." + service + "-service.port", Integer.toString(closedPort()));
            }
            config.put("berth.gateway.events.bootstrap-servers", "127.0.0.1:" + closedPort());
            config.put("berth.gateway.events.metadata-timeout", "2s");
            return config;
        }

        /** A port that was free a moment ago and has no listener now. */
        private static int closedPort() {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Inject
    DockerApiServer server;

    @Inject
    EventStreams streams;

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void aServiceThatIsDownGets503NamingIt() throws Exception {
        assertUnavailable("/v1.41/containers/json", "container-service");
        assertUnavailable("/v1.41/exec/x/json", "container-service");
        assertUnavailable("/v1.41/images/json", "image-service");
        assertUnavailable("/v2/", "image-service");
        assertUnavailable("/v1.41/networks", "network-service");
        assertUnavailable("/v1.41/volumes", "volume-service");
    }

    @Test
    void aHijackAttemptAgainstADownServiceGets503Too() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("POST", "/v1.50/containers/c1/attach?stream=1&stdout=1", "Content-Length: 0", "Connection: Upgrade",
                    "Upgrade: tcp");
            RawHttp.Response r = c.response(false);
            assertThat(r.status()).isEqualTo(503);
            assertThat(json.readTree(r.body()).path("message").asText()).isEqualTo("container-service is unavailable");
        }
    }

    @Test
    void anUploadToADownServiceIsAnsweredNotHung() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("POST", "/v1.41/images/load", "Transfer-Encoding: chunked");
            byte[] data = "some tar bytes".getBytes(StandardCharsets.US_ASCII);
            c.writeChunk(data, 0, data.length);
            // the client goes on uploading, as docker load does, while the answer is already on its way
            for (int i = 0; i < 64; i++) {
                c.writeChunk(new byte[16 * 1024], 0, 16 * 1024);
            }
            RawHttp.Response r = c.response(false);
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.header("Connection")).isEqualTo("close");
            // and the connection is closed instead of reading the rest of an upload nobody will take
            assertThat(c.readToEnd()).isEmpty();
        }
    }

    @Test
    void infoStillAnswersWithZeroCountsAndSaysWhy() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v1.41/info");
        assertThat(r.status()).isEqualTo(200);
        JsonNode info = json.readTree(r.body());
        assertThat(info.path("Containers").asInt()).isZero();
        assertThat(info.path("Images").asInt()).isZero();
        assertThat(info.path("Warnings").toString()).contains("container-service is unavailable", "image-service is unavailable");
        assertThat(info.path("KernelVersion").asText()).isNotEmpty();
    }

    @Test
    void diskUsageNeedsEveryServiceAndSaysWhichIsMissing() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v1.44/system/df");
        assertThat(r.status()).isEqualTo(503);
        assertThat(json.readTree(r.body()).path("message").asText()).matches("(image|container|volume)-service is unavailable");
    }

    @Test
    void eventsWithoutKafkaCloseTheStreamAndKeepNoConsumer() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("GET", "/v1.41/events");
            // the head goes out before Kafka is asked, as dockerd flushes it at once
            assertThat(c.head().status()).isEqualTo(200);
            // no terminating chunk: the client sees the stream cut, not a normal end
            assertThat(c.readToEnd()).isEmpty();
        }
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> streams.openConsumers() == 0 && streams.runningStreams() == 0);
    }

    private void assertUnavailable(String path, String service) throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", path);
        assertThat(r.status()).as(path).isEqualTo(503);
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
        assertThat(r.text()).as(path).isEqualTo("{\"message\":\"" + service + " is unavailable\"}\n");
        assertThat(r.header("Api-Version")).isEqualTo("1.51");
    }
}
