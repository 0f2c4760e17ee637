package dev.berth.image.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

/**
 * {@code docker push} and {@code docker pull} through the Engine API against Debian's docker-registry on loopback
 * (plain HTTP, Docker's insecure-registry rule for 127.0.0.0/8), over a real PostgreSQL and Kafka broker.
 */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class PullPushTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path BLOBS = Path.of("target/image-store/blobs/sha256");
    private static DockerRegistry registry;
    private static RawRegistry raw;

    @BeforeAll
    static void startRegistry() throws Exception {
        registry = DockerRegistry.start("");
        raw = new RawRegistry(registry);
    }

    @AfterAll
    static void stopRegistry() {
        if (registry != null) {
            registry.close();
        }
    }

    static String tenant() {
        return "t" + UUID.randomUUID().toString().substring(0, 8);
    }

    static RequestSpecification as(String tenant) {
        return given().header("X-Berth-Tenant", tenant);
    }

    /** The JSON messages of a pull/push answer (status 200, one per line). */
    static List<JsonNode> messages(String body) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : body.split("\r\n")) {
            if (!line.isBlank()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    static List<String> statuses(List<JsonNode> messages) {
        return messages.stream().map(m -> m.has("error") ? "ERROR " + m.path("error").asText()
                : m.path("status").asText("") + (m.has("id") ? " [" + m.path("id").asText() + "]" : "")).toList();
    }

    static List<JsonNode> pull(String tenant, String fromImage, String tag, String auth) throws Exception {
        RequestSpecification spec = as(tenant).queryParam("fromImage", fromImage);
        if (tag != null) {
            spec = spec.queryParam("tag", tag);
        }
        if (auth != null) {
            spec = spec.header("X-Registry-Auth", auth);
        }
        String body = spec.post("/images/create").then().statusCode(200).contentType("application/json")
                .extract().asString();
        return messages(body);
    }

    static List<JsonNode> push(String tenant, String name, String tag, String auth) throws Exception {
        RequestSpecification spec = as(tenant).queryParam("tag", tag);
        if (auth != null) {
            spec = spec.header("X-Registry-Auth", auth);
        }
        String body = spec.post("/images/" + name + "/push").then().statusCode(200).contentType("application/json")
                .extract().asString();
        return messages(body);
    }

    static String importImage(String tenant, String repo, String text) throws Exception {
        String body = as(tenant).contentType("text/plain").body(RawRegistry.tar("etc/hello.txt", text))
                .queryParam("fromSrc", "-").queryParam("repo", repo).queryParam("changes", "CMD [\"/bin/true\"]")
                .post("/images/create").then().statusCode(200).extract().asString();
        return JSON.readTree(body).path("status").asText();
    }

    @Test
    void pushThenPullBackAfterRemovalGivesTheSameImage() throws Exception {
        String t = tenant();
        String name = registry.address() + "/bb";
        String id = importImage(t, name + ":1", "pushed by berth");

        List<JsonNode> pushed = push(t, name, "1", "e30=");
        List<String> s = statuses(pushed);
        assertThat(s.get(0)).isEqualTo("The push refers to repository [" + name + "]");
        assertThat(s).noneMatch(x -> x.startsWith("ERROR"));
        assertThat(s).anyMatch(x -> x.startsWith("Preparing ["));
        assertThat(s).anyMatch(x -> x.startsWith("Pushed ["));
        JsonNode aux = pushed.get(pushed.size() - 1).path("aux");
        assertThat(aux.path("Tag").asText()).isEqualTo("1");
        String digest = aux.path("Digest").asText();
        assertThat(s).contains("1: digest: " + digest + " size: " + aux.path("Size").asInt());

        // the registry serves what was pushed, under the same digest
        HttpResponse<byte[]> served = raw.get("bb", "1");
        assertThat(served.statusCode()).isEqualTo(200);
        assertThat(RawRegistry.sha256(served.body())).isEqualTo(digest);
        assertThat(JSON.readTree(served.body()).path("config").path("digest").asText()).isEqualTo(id);

        // another client (skopeo) reads and verifies what Berth pushed: uncompressed layers are valid schema 2
        Path copy = Files.createTempDirectory(Files.createDirectories(Path.of("target/registries").toAbsolutePath()),
                "skopeo-");
        Process skopeo = new ProcessBuilder("skopeo", "copy", "--src-tls-verify=false", "docker://" + name + ":1",
                "oci:" + copy + ":copied").redirectErrorStream(true).start();
        String skopeoOut = new String(skopeo.getInputStream().readAllBytes());
        assertThat(skopeo.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(skopeo.exitValue()).as(skopeoOut).isZero();
        assertThat(Files.readString(copy.resolve("index.json"))).contains("\"copied\"");

        // as dockerd, the pushed image shows the registry's digest in inspect and in the list (docker images --digests)
        as(t).get("/images/" + name + ":1/json").then().statusCode(200)
                .body("RepoDigests", equalTo(List.of(name + "@" + digest)));
        as(t).get("/images/json").then().statusCode(200)
                .body("find { it.Id == '" + id + "' }.RepoDigests", equalTo(List.of(name + "@" + digest)));

        // a second push finds every layer there, and records no second digest
        assertThat(statuses(push(t, name, "1", null))).anyMatch(x -> x.startsWith("Layer already exists ["))
                .noneMatch(x -> x.startsWith("Pushed ["));
        as(t).get("/images/" + name + ":1/json").then().body("RepoDigests", equalTo(List.of(name + "@" + digest)));

        as(t).delete("/images/" + name + ":1").then().statusCode(200);
        as(t).get("/images/" + name + ":1/json").then().statusCode(404);

        List<JsonNode> pulled = pull(t, name, "1", "e30=");
        List<String> p = statuses(pulled);
        assertThat(p.get(0)).isEqualTo("Pulling from bb [1]");
        assertThat(p).anyMatch(x -> x.startsWith("Pulling fs layer ["))
                .anyMatch(x -> x.startsWith("Download complete ["))
                .anyMatch(x -> x.startsWith("Pull complete ["))
                .contains("Digest: " + digest, "Status: Downloaded newer image for " + name + ":1")
                .noneMatch(x -> x.startsWith("ERROR"));
        as(t).get("/images/" + name + ":1/json").then().statusCode(200)
                .body("Id", equalTo(id))
                .body("RepoTags", equalTo(List.of(name + ":1")))
                .body("RepoDigests", equalTo(List.of(name + "@" + digest)))
                .body("Config.Cmd", equalTo(List.of("/bin/true")));

        // pulled again: nothing to fetch
        assertThat(statuses(pull(t, name + ":1", null, null)))
                .containsExactly("Pulling from bb [1]", "Digest: " + digest, "Status: Image is up to date for " + name + ":1");
        // pulled under another name while here: tagged, and that registry's name for it recorded
        String mirror = registry.address() + "/mirror";
        String pusher = tenant();
        assertThat(statuses(pull(pusher, name, "1", null))).contains("Status: Downloaded newer image for " + name + ":1");
        as(pusher).queryParam("repo", mirror).queryParam("tag", "1").post("/images/" + name + ":1/tag")
                .then().statusCode(201);
        assertThat(statuses(push(pusher, mirror, "1", null))).noneMatch(x -> x.startsWith("ERROR"));
        assertThat(statuses(pull(t, mirror, "1", null))).contains("Status: Downloaded newer image for " + mirror + ":1");
        as(t).get("/images/" + id + "/json").then().statusCode(200)
                .body("RepoTags", equalTo(List.of(name + ":1", mirror + ":1")))
                .body("RepoDigests", equalTo(List.of(name + "@" + digest, mirror + "@" + digest)));
        // another tenant pulls it too, and gets its own copy of the references
        String other = tenant();
        assertThat(statuses(pull(other, name, "1", null))).contains("Status: Downloaded newer image for " + name + ":1");
        as(other).get("/images/" + name + ":1/json").then().statusCode(200).body("Id", equalTo(id));
    }

    @Test
    void pullsGzipLayersAndPicksThisMachinesImageFromAManifestList() throws Exception {
        String t = tenant();
        RawRegistry.Pushed amd = raw.image("multi", null, "amd64", "amd64 inside", null);
        RawRegistry.Pushed arm = raw.image("multi", null, "arm64", "arm64 inside", null);
        String listDigest = raw.list("multi", "1", List.of(arm, amd), List.of("arm64", "amd64"));
        String name = registry.address() + "/multi";

        List<String> s = statuses(pull(t, name, "1", null));
        assertThat(s).noneMatch(x -> x.startsWith("ERROR"));
        // progress ids are the compressed digests, as dockerd shows them
        assertThat(s).contains("Pulling fs layer [" + amd.compressedDigest().substring(7, 19) + "]",
                "Pull complete [" + amd.compressedDigest().substring(7, 19) + "]",
                "Digest: " + listDigest, "Status: Downloaded newer image for " + name + ":1");
        as(t).get("/images/" + name + ":1/json").then().statusCode(200)
                .body("Id", equalTo(amd.configDigest()))
                .body("Architecture", equalTo("amd64"))
                .body("Created", equalTo("2026-01-02T03:04:05.123456789Z"))
                .body("RootFS.Layers", equalTo(List.of(amd.diffId())));
        as(t).get("/images/" + arm.configDigest() + "/json").then().statusCode(404);
        // stored uncompressed: the blob under the diff id is the plain tar
        byte[] layer = as(t).get("/v2/multi/blobs/" + amd.diffId()).then().statusCode(200).extract().asByteArray();
        assertThat(RawRegistry.sha256(layer)).isEqualTo(amd.diffId());
        assertThat(Files.exists(BLOBS.resolve(amd.compressedDigest().substring(7)))).isFalse();

        // by digest: the image is there, no tag is added
        assertThat(statuses(pull(t, name, amd.manifestDigest(), null)))
                .contains("Status: Image is up to date for " + name + "@" + amd.manifestDigest());
    }

    @Test
    void aLayerTheTenantHasIsReusedButNotAnotherTenantsLayer() throws Exception {
        String t = tenant();
        String text = "shared base " + UUID.randomUUID();
        importImage(t, "base:1", text);
        RawRegistry.Pushed shared = raw.image("shared", "1", "amd64", text, null);
        String name = registry.address() + "/shared";
        String id = shared.compressedDigest().substring(7, 19);

        List<String> mine = statuses(pull(t, name, "1", null));
        assertThat(mine).contains("Already exists [" + id + "]", "Status: Downloaded newer image for " + name + ":1")
                .doesNotContain("Pulling fs layer [" + id + "]");
        as(t).get("/images/" + name + ":1/json").then().statusCode(200).body("RootFS.Layers",
                equalTo(List.of(shared.diffId())));

        List<String> theirs = statuses(pull(tenant(), name, "1", null));
        assertThat(theirs).contains("Pulling fs layer [" + id + "]", "Pull complete [" + id + "]")
                .doesNotContain("Already exists [" + id + "]");
    }

    @Test
    void unknownTagIs404WithDockersWording() {
        String t = tenant();
        String name = registry.address() + "/bb";
        as(t).queryParam("fromImage", name).queryParam("tag", "nope").post("/images/create").then().statusCode(404)
                .body("message", equalTo("manifest for " + name + ":nope not found: manifest unknown: manifest unknown"));
        as(t).queryParam("fromImage", name).queryParam("tag", "Bad:Tag").post("/images/create").then()
                .statusCode(400);
        as(t).header("X-Registry-Auth", "%%% not base64").queryParam("fromImage", name).queryParam("tag", "1")
                .post("/images/create").then().statusCode(400)
                .body("message", org.hamcrest.Matchers.startsWith("invalid X-Registry-Auth header"));
    }

    @Test
    void aLayerThatDoesNotMatchItsConfigFailsInTheStreamAndLeavesNothing() throws Exception {
        String t = tenant();
        String lie = "sha256:" + "0".repeat(64);
        RawRegistry.Pushed bad = raw.image("liar", "1", "amd64", "not what the config says", lie);
        String name = registry.address() + "/liar";
        List<String> s = statuses(pull(t, name, "1", null));
        assertThat(s.get(s.size() - 1)).startsWith("ERROR layers from manifest don't match image configuration");
        as(t).get("/images/" + name + ":1/json").then().statusCode(404);
        as(t).get("/images/" + bad.configDigest() + "/json").then().statusCode(404);
        assertThat(Files.exists(BLOBS.resolve(bad.diffId().substring(7)))).isFalse();
        assertThat(Files.exists(BLOBS.resolve(bad.configDigest().substring(7)))).isFalse();
    }

    @Test
    void pushOfAMissingImageIs404() {
        as(tenant()).queryParam("tag", "1").post("/images/" + registry.address() + "/nothere/push").then()
                .statusCode(404)
                .body("message", equalTo("An image does not exist locally with the tag: " + registry.address()
                        + "/nothere"));
    }
}
