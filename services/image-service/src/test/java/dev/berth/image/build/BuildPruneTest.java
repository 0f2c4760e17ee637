package dev.berth.image.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.image.store.BlobStore;
import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

/** {@code POST /build/prune} ({@code docker builder prune}) over a real PostgreSQL, Kafka broker and blob store. */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class BuildPruneTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Inject
    BlobStore blobs;

    private static String tenant() {
        return "k" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static RequestSpecification as(String tenant) {
        return given().header("X-Berth-Tenant", tenant);
    }

    private static byte[] context(String tenant) throws IOException {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("Dockerfile", "FROM scratch\nCOPY a.txt /a.txt\nENV STAGE=two\nCOPY b.txt /b.txt\n");
        files.put("a.txt", "first file of " + tenant + "\n");
        files.put("b.txt", "second file of " + tenant + "\n");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (var e : files.entrySet()) {
                byte[] content = e.getValue().getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry f = new TarArchiveEntry(e.getKey());
                f.setSize(content.length);
                f.setMode(0100644);
                tar.putArchiveEntry(f);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** The build's {@code stream} text. */
    private static String build(String tenant, String tag) throws IOException {
        String body = as(tenant).contentType("application/x-tar").body(context(tenant)).queryParam("t", tag)
                .post("/build").then().statusCode(200).extract().asString();
        StringBuilder text = new StringBuilder();
        for (String line : body.split("\r\n")) {
            if (!line.isEmpty()) {
                JsonNode m = JSON.readTree(line);
                assertThat(m.has("error")).as(line).isFalse();
                text.append(m.path("stream").asText(""));
            }
        }
        return text.toString();
    }

    private static List<String> layers(String tenant, String image) {
        return as(tenant).get("/images/" + image + "/json").then().statusCode(200).extract().path("RootFS.Layers");
    }

    /** What the docker CLI sends for {@code docker builder prune -f} ({@code -a} adds {@code all=1}). */
    private static Response prune(String tenant, boolean all) {
        RequestSpecification spec = as(tenant).queryParam("filters", "");
        if (all) {
            spec = spec.queryParam("all", "1");
        }
        return spec.post("/build/prune");
    }

    @Test
    void pruneRemovesDanglingCacheEntriesAndTheirLayersAndTheNextBuildIsCold() throws Exception {
        String t = tenant();
        assertThat(build(t, "cached:1")).doesNotContain("Using cache");
        assertThat(build(t, "cached:1")).contains(" ---> Using cache");
        List<String> layers = layers(t, "cached:1");
        assertThat(layers).hasSize(2);

        // the image holds every step: nothing dangles
        prune(t, false).then().statusCode(200).body("CachesDeleted", nullValue()).body("SpaceReclaimed", equalTo(0));
        assertThat(build(t, "cached:1")).contains(" ---> Using cache");

        as(t).delete("/images/cached:1").then().statusCode(200);
        // the cache alone holds the layers now
        assertThat(layers).allMatch(blobs::exists);
        long expected = blobs.size(layers.get(0)) + blobs.size(layers.get(1));

        Response pruned = prune(t, false);
        pruned.then().statusCode(200).contentType("application/json");
        List<String> deleted = pruned.path("CachesDeleted");
        assertThat(deleted).hasSize(3).allMatch(id -> id.matches("[a-f0-9]{64}"));
        assertThat(((Number) pruned.path("SpaceReclaimed")).longValue()).isEqualTo(expected);
        assertThat(layers).noneMatch(blobs::exists);

        String cold = build(t, "cached:1");
        assertThat(cold).doesNotContain("Using cache");
        List<String> rebuilt = layers(t, "cached:1");
        assertThat(rebuilt).hasSize(2).allMatch(d -> BlobStore.digestOf(blobs.path(d)).equals(d));
    }

    @Test
    void pruneAllRemovesEntriesImagesStillUseButNotTheirLayers() throws Exception {
        String t = tenant();
        build(t, "kept:1");
        List<String> layers = layers(t, "kept:1");
        Response pruned = prune(t, true);
        pruned.then().statusCode(200).body("SpaceReclaimed", equalTo(0));
        assertThat((List<String>) pruned.path("CachesDeleted")).hasSize(3);
        assertThat(layers).allMatch(blobs::exists);
        as(t).get("/images/kept:1/json").then().statusCode(200);
        assertThat(build(t, "kept:1")).doesNotContain("Using cache");
        // another tenant's cache is not touched by this tenant's prune
        String other = tenant();
        build(other, "theirs:1");
        prune(t, true).then().statusCode(200);
        assertThat(build(other, "theirs:1")).contains(" ---> Using cache");
    }

    @Test
    void filtersAndKeepStorageSelectWhatGoes() throws Exception {
        String t = tenant();
        build(t, "filtered:1");
        as(t).delete("/images/filtered:1").then().statusCode(200);
        // entries are younger than an hour: until=1h keeps them
        as(t).queryParam("filters", "{\"until\":{\"1h\":true}}").post("/build/prune").then().statusCode(200)
                .body("CachesDeleted", nullValue());
        // the cache takes less than 1 MB: keep-storage of 1 MB keeps it all
        as(t).queryParam("keep-storage", String.valueOf(1 << 20)).post("/build/prune").then().statusCode(200)
                .body("CachesDeleted", nullValue());
        Response byAge = as(t).queryParam("filters", "{\"unused-for\":[\"0s\"]}").post("/build/prune");
        byAge.then().statusCode(200);
        assertThat((List<String>) byAge.path("CachesDeleted")).hasSize(3);
    }

    @Test
    void badParametersAre400WithDockersWording() {
        String t = tenant();
        as(t).queryParam("filters", "{\"dangling\":[\"true\"]}").post("/build/prune").then().statusCode(400)
                .body("message", equalTo("invalid filter 'dangling'"));
        as(t).queryParam("filters", "{\"until\":[\"soon\"]}").post("/build/prune").then().statusCode(400)
                .body("message", equalTo("invalid filter 'until=soon'"));
        as(t).queryParam("filters", "not json").post("/build/prune").then().statusCode(400)
                .body("message", equalTo("invalid filters: not json"));
        as(t).queryParam("keep-storage", "lots").post("/build/prune").then().statusCode(400)
                .body("message", equalTo("keep-storage is in bytes and expects an integer, got lots"));
        as(t).queryParam("all", "maybe").post("/build/prune").then().statusCode(400);
    }
}
