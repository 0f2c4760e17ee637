package dev.berth.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.gateway.support.FakeServices;
import dev.berth.gateway.support.RawHttp;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Ping, version negotiation, routing and errors, over real sockets against the running gateway. */
@QuarkusTest
@QuarkusTestResource(value = FakeServices.class, restrictToAnnotatedClass = true)
class DockerApiTest {

    @Inject
    DockerApiServer server;

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void headPingCarriesTheHeadersTheCliNegotiatesWith() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "HEAD", "/_ping");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Api-Version")).isEqualTo("1.51");
        assertThat(r.header("Ostype")).isEqualTo("linux");
        assertThat(r.header("Docker-Experimental")).isEqualTo("false");
        assertThat(r.header("Cache-Control")).isEqualTo("no-cache, no-store, must-revalidate");
        assertThat(r.header("Pragma")).isEqualTo("no-cache");
        assertThat(r.header("Content-Length")).isEqualTo("0");
        assertThat(r.header("Server")).matches("Berth/\\S+ \\(linux\\)");
        assertThat(r.head().headers()).doesNotContainKey("builder-version");
        // Docker's canonical spelling, as Go writes it
        assertThat(r.head().rawHead()).contains("\r\nApi-Version: 1.51\r\n", "\r\nServer: Berth/");
    }

    @Test
    void getPingAnswersOk() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/_ping");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("OK");
        assertThat(r.header("Api-Version")).isEqualTo("1.51");
        assertThat(r.header("Content-Type")).isEqualTo("text/plain; charset=utf-8");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.24", "1.32", "1.41", "1.44", "1.50", "1.51"})
    void supportedVersionPrefixesAreServed(String version) throws Exception {
        RawHttp.Response ping = RawHttp.call(server.port(), "GET", "/v" + version + "/_ping");
        assertThat(ping.status()).isEqualTo(200);
        assertThat(ping.text()).isEqualTo("OK");

        RawHttp.Response proxied = RawHttp.call(server.port(), "GET", "/v" + version + "/containers/abc/json");
        JsonNode echo = json.readTree(proxied.body());
        assertThat(echo.path("Target").asText()).isEqualTo("/containers/abc/json");
        assertThat(echo.path("Headers").path("x-berth-api-version").asText()).isEqualTo(version);
    }

    @Test
    void tooNewVersionIsRefusedWithDockersWording() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v1.52/_ping");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
        assertThat(json.readTree(r.body()).path("message").asText())
                .isEqualTo("client version 1.52 is too new. Maximum supported API version is 1.51");
        assertThat(r.header("Api-Version")).isEqualTo("1.51");
    }

    @Test
    void tooOldVersionIsRefusedWithDockersWording() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v1.12/info");
        assertThat(r.status()).isEqualTo(400);
        assertThat(json.readTree(r.body()).path("message").asText()).isEqualTo(
                "client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version");
    }

    @Test
    void versionsCompareNumericallyNotAsText() throws Exception {
        // 1.5 < 1.24 although "1.5" > "1.24" as text; 1.100 > 1.51
        assertThat(RawHttp.call(server.port(), "GET", "/v1.5/version").status()).isEqualTo(400);
        assertThat(RawHttp.call(server.port(), "GET", "/v1.100/version").status()).isEqualTo(400);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/vx/info", "/v/info", "/nothing", "/v1.41/nothing", "/v1.41", "/containers", "/v1.41/v2/",
            "/info/extra", "/_ping/x"})
    void unknownRoutesAre404PageNotFound(String path) throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", path);
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
        assertThat(r.text()).isEqualTo("{\"message\":\"page not found\"}\n");
        assertThat(r.header("Api-Version")).isEqualTo("1.51");
    }

    @Test
    void eventsRefuseBadParametersBeforeStreaming() throws Exception {
        RawHttp.Response filter = RawHttp.call(server.port(), "GET", "/v1.41/events?filters=%7B%22colour%22%3A%7B%22red%22%3Atrue%7D%7D");
        assertThat(filter.status()).isEqualTo(400);
        assertThat(filter.text()).isEqualTo("{\"message\":\"invalid filter 'colour'\"}\n");
        RawHttp.Response since = RawHttp.call(server.port(), "GET", "/v1.41/events?since=yesterday");
        assertThat(since.status()).isEqualTo(400);
        assertThat(json.readTree(since.body()).path("message").asText())
                .isEqualTo("failed to parse value as time or duration: \"yesterday\"");
        RawHttp.Response order = RawHttp.call(server.port(), "GET", "/v1.41/events?since=200&until=100");
        assertThat(order.status()).isEqualTo(400);
        assertThat(json.readTree(order.body()).path("message").asText()).isEqualTo("`since` time (200) cannot be after `until` time (100)");
        assertThat(RawHttp.call(server.port(), "POST", "/v1.41/events").status()).isEqualTo(404);
    }

    @Test
    void swarmEndpointsAnswerAsADaemonOutsideASwarm() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v1.41/nodes");
        assertThat(r.status()).isEqualTo(503);
        assertThat(json.readTree(r.body()).path("message").asText()).startsWith("This node is not a swarm manager.");
    }

    @Test
    void eachNounGoesToItsService() throws Exception {
        assertRoutedTo("/v1.41/containers/abc/json", "container-service", "/containers/abc/json");
        // the data plane of a container is its node's (found through container-service): DataPlaneRoutingTest
        assertRoutedTo("/v1.41/exec/e1/json", "node-agent", "/exec/e1/json");
        assertRoutedTo("/v1.41/containers/abc/top?ps_args=-ef", "node-agent",
                "/containers/" + dev.berth.gateway.support.FakeService.idOf("abc") + "/top?ps_args=-ef");
        assertRoutedTo("/v1.41/images/busybox/json", "image-service", "/images/busybox/json");
        assertRoutedTo("/v1.41/build?t=x", "image-service", "/build?t=x");
        assertRoutedTo("/v1.41/commit?container=c", "image-service", "/commit?container=c");
        assertRoutedTo("/v1.41/distribution/busybox/json", "image-service", "/distribution/busybox/json");
        assertRoutedTo("/v1.41/networks", "network-service", "/networks");
        assertRoutedTo("/v1.41/networks/trnet", "network-service", "/networks/trnet");
        assertRoutedTo("/v1.41/volumes/prune?filters=%7B%7D", "volume-service", "/volumes/prune?filters=%7B%7D");
        assertRoutedTo("/volumes/data", "volume-service", "/volumes/data");
    }

    @Test
    void theRegistryApiIsNotMistakenForAVersionPrefix() throws Exception {
        assertRoutedTo("/v2/", "image-service", "/v2/");
        assertRoutedTo("/v2/bb/blobs/uploads/", "image-service", "/v2/bb/blobs/uploads/");
        assertRoutedTo("/v2/library/busybox/manifests/latest", "image-service", "/v2/library/busybox/manifests/latest");
    }

    private void assertRoutedTo(String path, String service, String target) throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", path);
        assertThat(r.status()).as(path).isEqualTo(200);
        JsonNode echo = json.readTree(r.body());
        assertThat(echo.path("Service").asText()).as(path).isEqualTo(service);
        assertThat(echo.path("Target").asText()).as(path).isEqualTo(target);
        assertThat(r.header("Api-Version")).as(path).isEqualTo("1.51");
        assertThat(r.header("Server")).as(path).startsWith("Berth/");
    }

    @Test
    void unversionedRequestsReachServicesAsTheNewestVersionAndTenantIsAlwaysTheGatewaysOwn() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/containers/abc/json",
                "X-Berth-Tenant: someone-else", "X-Berth-Api-Version: 1.99");
        JsonNode headers = json.readTree(r.body()).path("Headers");
        assertThat(headers.path("x-berth-tenant").asText()).isEqualTo("default");
        assertThat(headers.path("x-berth-api-version").asText()).isEqualTo("1.51");
    }

    @Test
    void serviceErrorsPassThroughWithTheirStatus() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v1.41/containers/missing/json");
        assertThat(r.status()).isEqualTo(404);
        assertThat(json.readTree(r.body()).path("message").asText()).isEqualTo("No such container: missing");
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
    }

    @Test
    void oneConnectionServesManyRequestsIncludingPipelinedOnes() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("HEAD", "/_ping");
            assertThat(c.response(true).status()).isEqualTo(200);
            c.send("GET", "/v1.41/containers/abc/json");
            assertThat(json.readTree(c.response(false).body()).path("Target").asText()).isEqualTo("/containers/abc/json");
            // two requests in one write: the answers come back in order
            c.write(("GET /v1.41/volumes/one HTTP/1.1\r\nHost: x\r\n\r\nGET /v1.41/version HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /v1.41/networks/two HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            assertThat(json.readTree(c.response(false).body()).path("Target").asText()).isEqualTo("/volumes/one");
            assertThat(json.readTree(c.response(false).body()).path("ApiVersion").asText()).isEqualTo("1.51");
            assertThat(json.readTree(c.response(false).body()).path("Target").asText()).isEqualTo("/networks/two");
        }
    }

    @Test
    void malformedHttpGets400AsJson() throws Exception {
        try (RawHttp c = new RawHttp(server.port())) {
            c.write("GET /_ping HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            RawHttp.Response r = c.response(false);
            assertThat(r.status()).isEqualTo(400);
            assertThat(json.readTree(r.body()).path("message").asText()).startsWith("malformed HTTP request");
        }
    }

    @Test
    void versionReportsDockersFieldsWithRealFigures() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/version");
        assertThat(r.status()).isEqualTo(200);
        JsonNode v = json.readTree(r.body());
        String kernel = Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        assertThat(v.path("ApiVersion").asText()).isEqualTo("1.51");
        assertThat(v.path("MinAPIVersion").asText()).isEqualTo("1.24");
        assertThat(v.path("Os").asText()).isEqualTo("linux");
        assertThat(v.path("KernelVersion").asText()).isEqualTo(kernel);
        assertThat(v.path("Arch").asText()).isIn("amd64", "arm64");
        assertThat(v.path("GoVersion").asText()).contains(Runtime.version().toString());
        assertThat(v.path("Version").asText()).matches("\\d+\\.\\d+\\.\\d+\\+berth\\..+");
        assertThat(v.has("GitCommit")).isTrue();
        assertThat(v.path("BuildTime").asText()).isNotEmpty();
        assertThat(v.path("Platform").path("Name").asText()).isEqualTo("Berth");
        JsonNode engine = v.path("Components").get(0);
        assertThat(engine.path("Name").asText()).isEqualTo("Engine");
        assertThat(engine.path("Version").asText()).isEqualTo(v.path("Version").asText());
        for (String field : new String[] {"ApiVersion", "MinAPIVersion", "GitCommit", "GoVersion", "Os", "Arch",
                "KernelVersion", "BuildTime", "Experimental"}) {
            assertThat(engine.path("Details").has(field)).as(field).isTrue();
        }
        assertThat(engine.path("Details").path("KernelVersion").asText()).isEqualTo(kernel);
    }
}
