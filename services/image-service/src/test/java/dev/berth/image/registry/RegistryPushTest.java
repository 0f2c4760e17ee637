package dev.berth.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.testing.BerthTestResource;
import dev.berth.testing.TopicReader;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

/** The push half of the registry API as a registry client drives it, over a real PostgreSQL and Kafka broker. */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class RegistryPushTest {

    private static final Path STORE = Path.of("target/image-store");
    private static final String OCTETS = "application/octet-stream";

    private static String tenant() {
        return "t" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static RequestSpecification as(String tenant) {
        return given().header("X-Berth-Tenant", tenant);
    }

    private static void pushBlob(String tenant, String repo, byte[] blob) {
        as(tenant).contentType(OCTETS).body(blob).queryParam("digest", TestImage.sha256(blob))
                .post("/v2/" + repo + "/blobs/uploads/").then().statusCode(201)
                .header("Location", "/v2/" + repo + "/blobs/" + TestImage.sha256(blob))
                .header("Docker-Content-Digest", TestImage.sha256(blob));
    }

    private static Response putManifest(String tenant, String repo, String reference, TestImage image,
                                        String mediaType) {
        return as(tenant).contentType(mediaType).body(image.manifest()).put("/v2/" + repo + "/manifests/" + reference);
    }

    private static void push(String tenant, String repo, String tag, TestImage image, String mediaType) {
        image.blobs().forEach(b -> pushBlob(tenant, repo, b));
        pushBlob(tenant, repo, image.config());
        putManifest(tenant, repo, tag, image, mediaType).then().statusCode(201)
                .header("Docker-Content-Digest", image.manifestDigest())
                .header("Location", "/v2/" + repo + "/manifests/" + image.manifestDigest());
    }

    @Test
    void aPushedImageIsServedBackByteForByteAndBecomesAnImageOfTheTenant() throws Exception {
        String t = tenant();
        TestImage image = TestImage.of("pushed " + t, TestImage.DOCKER_V2);
        push(t, "pushed/app", "1", image, TestImage.DOCKER_V2);

        for (String ref : List.of("1", image.manifestDigest())) {
            byte[] got = as(t).get("/v2/pushed/app/manifests/" + ref).then().statusCode(200)
                    .contentType(TestImage.DOCKER_V2).header("Docker-Content-Digest", image.manifestDigest())
                    .extract().asByteArray();
            assertThat(got).isEqualTo(image.manifest());
        }
        byte[] layer = as(t).get("/v2/pushed/app/blobs/" + TestImage.sha256(image.blobs().get(0))).then()
                .statusCode(200).extract().asByteArray();
        assertThat(layer).isEqualTo(image.blobs().get(0));
        as(t).head("/v2/pushed/app/blobs/" + TestImage.sha256(image.blobs().get(0))).then().statusCode(200)
                .header("Content-Length", String.valueOf(image.blobs().get(0).length));

        // the engine API sees the image: id = config digest, the config's settings, the layer's uncompressed size
        as(t).get("/images/pushed/app:1/json").then().statusCode(200)
                .body("Id", equalTo(image.configDigest()))
                .body("RepoTags", equalTo(List.of("pushed/app:1")))
                .body("Config.Env", equalTo(List.of("PUSHED=1")))
                .body("RootFS.Layers", equalTo(List.of(TestImage.sha256(image.tars().get(0)))))
                .body("Size", equalTo(("pushed " + t).length()));
        // another tenant sees none of it
        String other = tenant();
        as(other).get("/v2/pushed/app/manifests/1").then().statusCode(404)
                .body("errors[0].code", equalTo("MANIFEST_UNKNOWN"));
        as(other).head("/v2/pushed/app/blobs/" + image.configDigest()).then().statusCode(404);

        try (TopicReader topic = new TopicReader(bootstrap(), "berth.images.events")) {
            String key = t + "/images";
            await().atMost(Duration.ofSeconds(30)).until(() -> !topic.byKey(key).isEmpty());
            ConsumerRecord<String, String> r = topic.byKey(key).get(0);
            assertThat(TopicReader.headers(r).get("ce_type")).isEqualTo("dev.berth.image.pushed.v1");
            JsonNode event = TestImage.JSON.readTree(r.value());
            assertThat(event.path("manifestDigest").asText()).isEqualTo(image.manifestDigest());
            assertThat(event.path("manifestMediaType").asText()).isEqualTo(TestImage.DOCKER_V2);
            assertThat(event.path("repoTags").toString()).isEqualTo("[\"pushed/app:1\"]");
            JsonNode l = event.path("layers").get(0);
            assertThat(l.path("digest").asText()).isEqualTo(TestImage.sha256(image.blobs().get(0)));
            assertThat(l.path("diffId").asText()).isEqualTo(TestImage.sha256(image.tars().get(0)));
            assertThat(l.path("mediaType").asText()).isEqualTo("application/vnd.docker.image.rootfs.diff.tar.gzip");
        }
    }

    @Test
    void ociManifestsKeepTheirMediaType() throws Exception {
        String t = tenant();
        TestImage image = TestImage.of("oci " + t, TestImage.OCI);
        push(t, "ocirepo", "v1", image, TestImage.OCI);
        byte[] got = as(t).get("/v2/ocirepo/manifests/v1").then().statusCode(200).contentType(TestImage.OCI)
                .extract().asByteArray();
        assertThat(got).isEqualTo(image.manifest());
    }

    @Test
    void chunkedUploadWithStatusAndOutOfOrderChunk() {
        String t = tenant();
        byte[] blob = ("chunked blob of " + t + " ").repeat(100).getBytes();
        byte[] first = Arrays.copyOfRange(blob, 0, 1000);
        byte[] second = Arrays.copyOfRange(blob, 1000, blob.length);
        Response started = as(t).post("/v2/chunky/blobs/uploads/");
        started.then().statusCode(202).header("Range", "0-0");
        String location = started.header("Location");
        assertThat(location).startsWith("/v2/chunky/blobs/uploads/");
        String uuid = started.header("Docker-Upload-UUID");
        assertThat(location).endsWith(uuid);

        as(t).contentType(OCTETS).header("Content-Range", "0-999").body(first).patch(location).then()
                .statusCode(202).header("Range", "0-999").header("Location", location);
        as(t).get(location).then().statusCode(204).header("Range", "0-999");
        // a chunk that does not start where the upload ends is refused and changes nothing
        as(t).contentType(OCTETS).header("Content-Range", "500-" + (499 + second.length)).body(second)
                .patch(location).then().statusCode(416).header("Range", "0-999")
                .body("errors[0].code", equalTo("BLOB_UPLOAD_INVALID"));
        // another tenant cannot see or continue the session
        as(tenant()).get(location).then().statusCode(404).body("errors[0].code", equalTo("BLOB_UPLOAD_UNKNOWN"));

        as(t).contentType(OCTETS).header("Content-Range", "1000-" + (blob.length - 1)).body(second)
                .patch(location).then().statusCode(202).header("Range", "0-" + (blob.length - 1));
        as(t).contentType(OCTETS).queryParam("digest", TestImage.sha256(blob)).put(location).then().statusCode(201)
                .header("Docker-Content-Digest", TestImage.sha256(blob));
        byte[] got = as(t).get("/v2/chunky/blobs/" + TestImage.sha256(blob)).then().statusCode(200).extract()
                .asByteArray();
        assertThat(got).isEqualTo(blob);
        as(t).get(location).then().statusCode(404).body("errors[0].code", equalTo("BLOB_UPLOAD_UNKNOWN"));
        assertThat(uploadFiles()).doesNotContain(uuid);
    }

    @Test
    void lastChunkInTheFinishingPutAndCancel() {
        String t = tenant();
        byte[] blob = ("put-finished " + t).getBytes();
        String location = as(t).post("/v2/fin/blobs/uploads/").then().statusCode(202).extract().header("Location");
        as(t).contentType(OCTETS).body(blob).queryParam("digest", TestImage.sha256(blob)).put(location).then()
                .statusCode(201);
        as(t).head("/v2/fin/blobs/" + TestImage.sha256(blob)).then().statusCode(200);

        String cancelled = as(t).post("/v2/fin/blobs/uploads/").then().statusCode(202).extract().header("Location");
        String uuid = cancelled.substring(cancelled.lastIndexOf('/') + 1);
        as(t).contentType(OCTETS).body("partial".getBytes()).patch(cancelled).then().statusCode(202);
        assertThat(uploadFiles()).contains(uuid);
        as(t).delete(cancelled).then().statusCode(204);
        as(t).get(cancelled).then().statusCode(404).body("errors[0].code", equalTo("BLOB_UPLOAD_UNKNOWN"));
        as(t).delete(cancelled).then().statusCode(404);
        assertThat(uploadFiles()).doesNotContain(uuid);
    }

    @Test
    void aDigestMismatchKeepsNothing() {
        String t = tenant();
        byte[] blob = ("mismatch " + t).getBytes();
        String wrong = TestImage.sha256(("something else " + t).getBytes());
        List<String> before = blobFiles();
        as(t).contentType(OCTETS).body(blob).queryParam("digest", wrong).post("/v2/mm/blobs/uploads/").then()
                .statusCode(400).body("errors[0].code", equalTo("DIGEST_INVALID"))
                .body("errors[0].detail.digest", equalTo(wrong));

        String location = as(t).post("/v2/mm/blobs/uploads/").then().statusCode(202).extract().header("Location");
        as(t).contentType(OCTETS).body(blob).patch(location).then().statusCode(202);
        as(t).contentType(OCTETS).queryParam("digest", wrong).put(location).then().statusCode(400)
                .body("errors[0].code", equalTo("DIGEST_INVALID"));
        as(t).get(location).then().statusCode(404);
        as(t).head("/v2/mm/blobs/" + TestImage.sha256(blob)).then().statusCode(404);
        as(t).head("/v2/mm/blobs/" + wrong).then().statusCode(404);
        assertThat(blobFiles()).doesNotContain(TestImage.sha256(blob).substring(7), wrong.substring(7));
        assertThat(blobFiles()).containsAll(before);
        assertThat(uploadFiles()).doesNotContain(location.substring(location.lastIndexOf('/') + 1));
    }

    @Test
    void crossRepositoryMountOnlyForBlobsTheTenantCanSee() {
        String t = tenant();
        byte[] blob = ("mounted " + t).getBytes();
        String digest = TestImage.sha256(blob);
        pushBlob(t, "src/repo", blob);
        as(t).queryParam("mount", digest).queryParam("from", "src/repo").post("/v2/dst/repo/blobs/uploads/")
                .then().statusCode(201).header("Location", "/v2/dst/repo/blobs/" + digest)
                .header("Docker-Content-Digest", digest);
        // the same digest from another tenant: no mount, an ordinary session instead
        String other = tenant();
        Response r = as(other).queryParam("mount", digest).queryParam("from", "src/repo")
                .post("/v2/dst/repo/blobs/uploads/");
        r.then().statusCode(202);
        assertThat(r.header("Location")).startsWith("/v2/dst/repo/blobs/uploads/");
        as(other).head("/v2/dst/repo/blobs/" + digest).then().statusCode(404);
        as(other).delete(r.header("Location")).then().statusCode(204);
    }

    @Test
    void manifestErrorsInTheSpecsForm() throws Exception {
        String t = tenant();
        as(t).get("/v2/nothing/manifests/1").then().statusCode(404).contentType("application/json")
                .body("errors[0].code", equalTo("MANIFEST_UNKNOWN"))
                .body("errors[0].message", equalTo("manifest unknown"))
                .body("errors[0].detail.Tag", equalTo("1"));
        String digest = TestImage.sha256("nope".getBytes());
        as(t).get("/v2/nothing/manifests/" + digest).then().statusCode(404)
                .body("errors[0].code", equalTo("MANIFEST_UNKNOWN")).body("errors[0].detail.Digest", equalTo(digest));

        // a manifest whose layer was never uploaded: refused, no image, no tag
        TestImage image = TestImage.of("missing layer " + t, TestImage.DOCKER_V2);
        pushBlob(t, "half", image.config());
        putManifest(t, "half", "1", image, TestImage.DOCKER_V2).then().statusCode(400)
                .body("errors[0].code", equalTo("MANIFEST_BLOB_UNKNOWN"))
                .body("errors[0].detail.digest", equalTo(TestImage.sha256(image.blobs().get(0))));
        as(t).get("/images/json").then().statusCode(200).body("size()", equalTo(0));
        as(t).get("/v2/half/manifests/" + image.manifestDigest()).then().statusCode(404);

        // pushed by a digest that is not the body's
        image.blobs().forEach(b -> pushBlob(t, "half", b));
        putManifest(t, "half", TestImage.sha256("other".getBytes()), image, TestImage.DOCKER_V2).then()
                .statusCode(400).body("errors[0].code", equalTo("DIGEST_INVALID"));
        // a layer that is not a tar
        byte[] otherLayer = TestImage.gzip(("not a tar " + t + "\n").repeat(100)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        pushBlob(t, "half", otherLayer);
        String lying = "{\"schemaVersion\":2,\"mediaType\":\"" + TestImage.DOCKER_V2 + "\",\"config\":{"
                + "\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":" + image.config().length
                + ",\"digest\":\"" + image.configDigest() + "\"},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":" + otherLayer.length
                + ",\"digest\":\"" + TestImage.sha256(otherLayer) + "\"}]}";
        as(t).contentType(TestImage.DOCKER_V2).body(lying).put("/v2/half/manifests/2").then().statusCode(400)
                .body("errors[0].code", equalTo("MANIFEST_INVALID"));
        as(t).contentType(TestImage.DOCKER_V2).body("not json").put("/v2/half/manifests/3").then().statusCode(400)
                .body("errors[0].code", equalTo("MANIFEST_INVALID"));
        as(t).contentType("application/vnd.oci.image.index.v1+json")
                .body("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}")
                .put("/v2/half/manifests/4").then().statusCode(400).body("errors[0].code", equalTo("MANIFEST_INVALID"));
        as(t).get("/images/json").then().statusCode(200).body("size()", equalTo(0));
        as(t).get("/v2/half/tags/list").then().statusCode(404).body("errors[0].code", equalTo("NAME_UNKNOWN"));
    }

    @Test
    void tagsListCatalogAndDeletes() throws Exception {
        String t = tenant();
        TestImage a = TestImage.of("a " + t, TestImage.DOCKER_V2);
        TestImage b = TestImage.of("b " + t, TestImage.DOCKER_V2);
        push(t, "lib/tl", "1", a, TestImage.DOCKER_V2);
        push(t, "lib/tl", "2", a, TestImage.DOCKER_V2);
        push(t, "lib/tl", "3", b, TestImage.DOCKER_V2);
        push(t, "other", "x", b, TestImage.DOCKER_V2);

        as(t).get("/v2/lib/tl/tags/list").then().statusCode(200).body("name", equalTo("lib/tl"))
                .body("tags", equalTo(List.of("1", "2", "3")));
        as(t).queryParam("n", 2).get("/v2/lib/tl/tags/list").then().statusCode(200)
                .body("tags", equalTo(List.of("1", "2")))
                .header("Link", "</v2/lib/tl/tags/list?n=2&last=2>; rel=\"next\"");
        as(t).queryParam("n", 2).queryParam("last", "2").get("/v2/lib/tl/tags/list").then().statusCode(200)
                .body("tags", equalTo(List.of("3")));
        as(t).get("/v2/_catalog").then().statusCode(200).body("repositories", equalTo(List.of("lib/tl", "other")));
        as(t).queryParam("n", 1).get("/v2/_catalog").then().statusCode(200)
                .body("repositories", equalTo(List.of("lib/tl")))
                .header("Link", "</v2/_catalog?n=1&last=lib%2Ftl>; rel=\"next\"");

        // a tag delete removes the tag only; the manifest stays reachable by digest
        as(t).delete("/v2/lib/tl/manifests/1").then().statusCode(202);
        as(t).get("/v2/lib/tl/tags/list").then().statusCode(200).body("tags", equalTo(List.of("2", "3")));
        as(t).get("/v2/lib/tl/manifests/" + a.manifestDigest()).then().statusCode(200);
        as(t).delete("/v2/lib/tl/manifests/1").then().statusCode(404).body("errors[0].code", equalTo("MANIFEST_UNKNOWN"));

        // a digest delete removes the image with its tags; its blobs stay (as uploads) until deleted themselves
        as(t).delete("/v2/lib/tl/manifests/" + a.manifestDigest()).then().statusCode(202);
        as(t).get("/v2/lib/tl/manifests/" + a.manifestDigest()).then().statusCode(404)
                .body("errors[0].code", equalTo("MANIFEST_UNKNOWN"));
        as(t).get("/v2/lib/tl/manifests/2").then().statusCode(404);
        as(t).get("/v2/lib/tl/tags/list").then().statusCode(200).body("tags", equalTo(List.of("3")));
        assertThat(blobFiles()).doesNotContain(a.manifestDigest().substring(7));
        String layerA = TestImage.sha256(a.blobs().get(0));
        as(t).head("/v2/lib/tl/blobs/" + layerA).then().statusCode(200);
        for (String blob : List.of(layerA, a.configDigest())) {
            as(t).delete("/v2/lib/tl/blobs/" + blob).then().statusCode(202);
            as(t).head("/v2/lib/tl/blobs/" + blob).then().statusCode(404);
        }
        assertThat(blobFiles()).doesNotContain(layerA.substring(7), a.configDigest().substring(7));
        as(t).delete("/v2/lib/tl/manifests/" + a.manifestDigest()).then().statusCode(404);
        as(t).delete("/v2/lib/tl/blobs/" + b.configDigest()).then().statusCode(405)
                .body("errors[0].code", equalTo("UNSUPPORTED"));
    }

    private static List<String> blobFiles() {
        return list(STORE.resolve("blobs/sha256"));
    }

    private static List<String> uploadFiles() {
        return list(STORE.resolve("tmp/uploads"));
    }

    private static List<String> list(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String bootstrap() {
        return ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
    }
}
