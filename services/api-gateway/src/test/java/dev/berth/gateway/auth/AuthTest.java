package dev.berth.gateway.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.gateway.api.DockerApiServer;
import dev.berth.gateway.support.FakeServices;
import dev.berth.gateway.support.RawHttp;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Bearer tokens from a token file: who may call, and which tenant the services are told. */
@QuarkusTest
@TestProfile(AuthTest.WithTokens.class)
@QuarkusTestResource(value = FakeServices.class, restrictToAnnotatedClass = true)
class AuthTest {

    public static class WithTokens implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Path file = Files.createTempFile("berth-tokens", ".txt");
                file.toFile().deleteOnExit();
                Files.writeString(file, "# token tenant\nalpha-secret alpha\n\nbeta-secret   beta\n");
                return Map.of("berth.gateway.auth.tokens-file", file.toString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Inject
    DockerApiServer server;

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void withoutATokenEverythingButPingIsRefused() throws Exception {
        for (String path : new String[] {"/v1.41/containers/json", "/version", "/v1.44/info", "/v2/"}) {
            RawHttp.Response r = RawHttp.call(server.port(), "GET", path);
            assertThat(r.status()).as(path).isEqualTo(401);
            assertThat(r.header("Content-Type")).isEqualTo("application/json");
            assertThat(json.readTree(r.body()).path("message").asText()).as(path).contains("Authorization: Bearer");
            assertThat(r.header("Api-Version")).isEqualTo("1.51");
        }
        assertThat(RawHttp.call(server.port(), "GET", "/v2/").header("WWW-Authenticate")).startsWith("Basic");
        assertThat(RawHttp.call(server.port(), "HEAD", "/_ping").status()).isEqualTo(200);
        assertThat(RawHttp.call(server.port(), "GET", "/v1.44/_ping").text()).isEqualTo("OK");
    }

    @Test
    void aWrongTokenIsRefused() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v1.41/containers/json", "Authorization: Bearer alpha-secretx");
        assertThat(r.status()).isEqualTo(401);
        assertThat(json.readTree(r.body()).path("message").asText()).isEqualTo("invalid token");
        assertThat(RawHttp.call(server.port(), "GET", "/version", "Authorization: Token alpha-secret").status()).isEqualTo(401);
    }

    @Test
    void theTokensTenantReachesTheServiceAndTheTokenDoesNot() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v1.41/containers/abc/json",
                "Authorization: Bearer beta-secret", "X-Berth-Tenant: alpha");
        assertThat(r.status()).isEqualTo(200);
        JsonNode headers = json.readTree(r.body()).path("Headers");
        assertThat(headers.path("x-berth-tenant").asText()).isEqualTo("beta");
        assertThat(headers.has("authorization")).isFalse();
    }

    @Test
    void registryClientsMayPresentTheTokenAsABasicPassword() throws Exception {
        String basic = Base64.getEncoder().encodeToString("anyone:alpha-secret".getBytes(StandardCharsets.UTF_8));
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v2/", "Authorization: Basic " + basic);
        assertThat(r.status()).isEqualTo(200);
        assertThat(json.readTree(r.body()).path("Headers").path("x-berth-tenant").asText()).isEqualTo("alpha");
    }

    @Test
    void theDockerCliPassesWithATokenFromItsConfigAndIsToldWhyWithout(@TempDir Path home) throws Exception {
        Files.createDirectories(home.resolve("with/.docker"));
        Files.writeString(home.resolve("with/.docker/config.json"),
                "{\"HttpHeaders\":{\"Authorization\":\"Bearer alpha-secret\"}}");
        Files.createDirectories(home.resolve("without"));

        String[] with = docker(home.resolve("with"), "info");
        assertThat(with[0]).isEqualTo("0");
        assertThat(with[1]).contains(" Containers: 3\n", " Images: 2\n");

        String[] without = docker(home.resolve("without"), "info");
        assertThat(without[0]).isNotEqualTo("0");
        assertThat(without[2]).contains("authentication required");
    }

    /** Runs the real docker CLI; returns exit code, stdout, stderr. */
    private String[] docker(Path home, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/local/bin/docker"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("DOCKER_HOST", "tcp://127.0.0.1:" + server.port());
        pb.environment().put("HOME", home.toString());
        pb.environment().remove("DOCKER_CONFIG");
        pb.environment().remove("DOCKER_CONTEXT");
        Path out = home.resolve("out.txt");
        Path err = home.resolve("err.txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        return new String[] {Integer.toString(p.exitValue()), Files.readString(out), Files.readString(err)};
    }

    @Test
    void infoCountsAreAskedForAsTheCallersTenant() throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", "/v1.41/info", "Authorization: Bearer alpha-secret");
        assertThat(r.status()).isEqualTo(200);
        assertThat(FakeServices.container.last("/containers/json").header("X-Berth-Tenant")).isEqualTo("alpha");
    }
}
