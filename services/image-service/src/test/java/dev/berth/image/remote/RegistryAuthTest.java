package dev.berth.image.remote;

import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.berth.image.remote.PullPushTest.as;
import static dev.berth.image.remote.PullPushTest.importImage;
import static dev.berth.image.remote.PullPushTest.pull;
import static dev.berth.image.remote.PullPushTest.push;
import static dev.berth.image.remote.PullPushTest.statuses;
import static dev.berth.image.remote.PullPushTest.tenant;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

/**
 * Registry authentication as the docker CLI drives it ({@code X-Registry-Auth}): Debian's docker-registry with
 * htpasswd basic auth, and with token auth behind a token server speaking Docker Hub's token protocol.
 */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class RegistryAuthTest {

    private static final String USER = "berth";
    private static final String PASSWORD = "s3cret-pass";

    /** X-Registry-Auth as the CLI encodes it: base64url JSON of the AuthConfig. */
    static String auth(String user, String password, String server) {
        String json = "{\"username\":\"" + user + "\",\"password\":\"" + password + "\",\"serveraddress\":\""
                + server + "\"}";
        return Base64.getUrlEncoder().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void basicAuthRegistryTakesCredentialsAndRefusesOthersWithDockersMessage() throws Exception {
        Path htpasswd = Files.createTempFile(Files.createDirectories(Path.of("target/registries").toAbsolutePath()),
                "htpasswd-", "");
        Files.writeString(htpasswd, USER + ":" + bcrypt(PASSWORD) + "\n");
        try (DockerRegistry registry = DockerRegistry.start("  htpasswd:\n    realm: basic-realm\n    path: "
                + htpasswd + "\n")) {
            String t = tenant();
            String name = registry.address() + "/secure";
            String id = importImage(t, name + ":1", "behind basic auth");

            List<String> refused = statuses(push(t, name, "1", "e30="));
            assertThat(refused.get(0)).isEqualTo("The push refers to repository [" + name + "]");
            assertThat(refused.get(refused.size() - 1)).isEqualTo("ERROR unauthorized: no basic auth credentials");
            List<String> wrong = statuses(push(t, name, "1", auth(USER, "wrong", registry.address())));
            assertThat(wrong.get(wrong.size() - 1)).isEqualTo("ERROR unauthorized: authentication required");

            List<String> pushed = statuses(push(t, name, "1", auth(USER, PASSWORD, registry.address())));
            assertThat(pushed).noneMatch(x -> x.startsWith("ERROR")).anyMatch(x -> x.startsWith("1: digest: sha256:"));

            as(t).delete("/images/" + name + ":1").then().statusCode(200);
            as(t).queryParam("fromImage", name).queryParam("tag", "1").post("/images/create").then().statusCode(401)
                    .body("message", equalTo("unauthorized: no basic auth credentials"));
            as(t).header("X-Registry-Auth", auth(USER, "wrong", registry.address()))
                    .queryParam("fromImage", name).queryParam("tag", "1").post("/images/create").then().statusCode(401)
                    .body("message", equalTo("unauthorized: authentication required"));
            assertThat(statuses(pull(t, name, "1", auth(USER, PASSWORD, registry.address()))))
                    .contains("Status: Downloaded newer image for " + name + ":1");
            as(t).get("/images/" + name + ":1/json").then().statusCode(200).body("Id", equalTo(id));
        }
    }

    @Test
    void tokenAuthRegistryGetsABearerTokenFromTheRealm() throws Exception {
        Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target/registries").toAbsolutePath()),
                "token-");
        try (TokenServer tokens = TokenServer.start(dir, USER, PASSWORD);
             DockerRegistry registry = DockerRegistry.start(tokens.registryAuth())) {
            String t = tenant();
            String name = registry.address() + "/tok/app";
            String id = importImage(t, name + ":v1", "behind a token server");

            List<String> anonymous = statuses(push(t, name, "v1", null));
            assertThat(anonymous.get(anonymous.size() - 1)).isEqualTo("ERROR unauthorized: authentication required");

            List<String> pushed = statuses(push(t, name, "v1", auth(USER, PASSWORD, registry.address())));
            assertThat(pushed).noneMatch(x -> x.startsWith("ERROR")).anyMatch(x -> x.startsWith("v1: digest: sha256:"));

            as(t).delete("/images/" + name + ":v1").then().statusCode(200);
            as(t).header("X-Registry-Auth", auth(USER, "wrong", registry.address()))
                    .queryParam("fromImage", name).queryParam("tag", "v1").post("/images/create").then().statusCode(401)
                    .body("message", equalTo("unauthorized: incorrect username or password"));
            as(t).queryParam("fromImage", name).queryParam("tag", "v1").post("/images/create").then().statusCode(401)
                    .body("message", equalTo("unauthorized: authentication required"));
            assertThat(statuses(pull(t, name + ":v1", null, auth(USER, PASSWORD, registry.address()))))
                    .contains("Status: Downloaded newer image for " + name + ":v1");
            as(t).get("/images/" + name + ":v1/json").then().statusCode(200).body("Id", equalTo(id));
        }
    }

    /** A bcrypt hash from the system's crypt(3) (libxcrypt), through Perl, which every Debian system has. */
    private static String bcrypt(String password) throws Exception {
        String alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        SecureRandom random = new SecureRandom();
        StringBuilder salt = new StringBuilder("$2b$05$");
        for (int i = 0; i < 21; i++) {
            salt.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        salt.append('e');
        Process p = new ProcessBuilder("perl", "-e", "print crypt($ARGV[0], $ARGV[1])", password, salt.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(out).startsWith("$2b$05$").hasSize(60);
        return out;
    }
}
