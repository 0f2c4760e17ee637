package dev.berth.image.registry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.emptyString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;

/**
 * What the OCI distribution-spec conformance workflows (pull, push, content discovery, content management) expect of
 * the registry API, asserted as plain HTTP so the suite's findings hold without running it: a manifest is stored
 * whatever its config says about diff ids, a repository whose tags were all deleted lists no tags, a deleted
 * manifest's blobs stay until they are deleted themselves, and a blob delete answers 202 then 404.
 */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class RegistryConformanceTest {

    private static final Path STORE = Path.of("target/image-store");
    private static final String OCTETS = "application/octet-stream";

    private static String tenant() {
        return "c" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static RequestSpecification as(String tenant) {
        return given().header("X-Berth-Tenant", tenant);
    }

    /** Uploads a blob as the suite does: POST for a session, then PUT with the digest and the whole body. */
    private static void upload(String tenant, String repo, byte[] blob) {
        String location = as(tenant).post("/v2/" + repo + "/blobs/uploads/").then().statusCode(202)
                .extract().header("Location");
        as(tenant).contentType(OCTETS).body(blob).queryParam("digest", TestImage.sha256(blob)).put(location).then()
                .statusCode(201).header("Location", "/v2/" + repo + "/blobs/" + TestImage.sha256(blob));
    }

    /** An OCI image config like the suite's: an author, and {@code rootfs.diff_ids} empty. */
    private static byte[] config(String author) throws Exception {
        ObjectNode c = TestImage.JSON.createObjectNode();
        c.put("author", author);
        c.put("architecture", "amd64");
        c.put("os", "linux");
        ObjectNode rootfs = c.putObject("rootfs");
        rootfs.put("type", "layers");
        rootfs.putArray("diff_ids");
        return TestImage.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(c);
    }

    /** An OCI manifest (no mediaType field, as the suite's) naming the config and gzip layers. */
    private static byte[] manifest(byte[] config, List<byte[]> layers) throws Exception {
        ObjectNode m = TestImage.JSON.createObjectNode();
        m.put("schemaVersion", 2);
        ObjectNode cd = m.putObject("config");
        cd.put("mediaType", "application/vnd.oci.image.config.v1+json");
        cd.put("digest", TestImage.sha256(config));
        cd.put("size", config.length);
        var array = m.putArray("layers");
        for (byte[] layer : layers) {
            ObjectNode l = array.addObject();
            l.put("mediaType", "application/vnd.oci.image.layer.v1.tar+gzip");
            l.put("digest", TestImage.sha256(layer));
            l.put("size", layer.length);
        }
        return TestImage.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m);
    }

    private static void putManifest(String tenant, String repo, String reference, byte[] manifest) {
        as(tenant).contentType(TestImage.OCI).body(manifest).put("/v2/" + repo + "/manifests/" + reference).then()
                .statusCode(201).header("Docker-Content-Digest", TestImage.sha256(manifest))
                .header("Location", "/v2/" + repo + "/manifests/" + TestImage.sha256(manifest));
    }

    @Test
    void aManifestIsStoredWhateverItsConfigListsAsDiffIds() throws Exception {
        String t = tenant();
        byte[] tar = TestImage.tar("test.txt", "conformance layer " + t);
        byte[] layer = TestImage.gzip(tar);
        byte[] config = config("author " + t);
        byte[] manifest = manifest(config, List.of(layer));
        upload(t, "conf/a", config);
        upload(t, "conf/a", layer);
        putManifest(t, "conf/a", "tagtest0", manifest);

        for (String ref : List.of("tagtest0", TestImage.sha256(manifest))) {
            byte[] got = as(t).accept(TestImage.OCI).get("/v2/conf/a/manifests/" + ref).then().statusCode(200)
                    .contentType(TestImage.OCI).header("Docker-Content-Digest", TestImage.sha256(manifest))
                    .extract().asByteArray();
            assertThat(got).isEqualTo(manifest);
            as(t).head("/v2/conf/a/manifests/" + ref).then().statusCode(200)
                    .header("Docker-Content-Digest", TestImage.sha256(manifest))
                    .header("Content-Length", String.valueOf(manifest.length));
        }
        // the image runs the layer the manifest names: its diff id is that of the layer's own tar
        as(t).get("/images/conf/a:tagtest0/json").then().statusCode(200)
                .body("Id", equalTo(TestImage.sha256(config)))
                .body("RootFS.Layers", equalTo(List.of(TestImage.sha256(tar))));

        // a manifest with no layers at all, on another config
        byte[] emptyConfig = config("empty " + t);
        upload(t, "conf/a", emptyConfig);
        byte[] empty = manifest(emptyConfig, List.of());
        putManifest(t, "conf/a", "emptylayer", empty);
        assertThat(as(t).get("/v2/conf/a/manifests/emptylayer").then().statusCode(200).extract().asByteArray())
                .isEqualTo(empty);
        as(t).get("/v2/conf/a/tags/list").then().statusCode(200)
                .body("tags", equalTo(List.of("emptylayer", "tagtest0")));
    }

    @Test
    void aLayerThatIsNotATarIsStillRefused() throws Exception {
        String t = tenant();
        byte[] config = config("not a tar " + t);
        byte[] junk = TestImage.gzip(("not a tar " + t + "\n").repeat(100).getBytes(StandardCharsets.UTF_8));
        upload(t, "conf/junk", config);
        upload(t, "conf/junk", junk);
        as(t).contentType(TestImage.OCI).body(manifest(config, List.of(junk))).put("/v2/conf/junk/manifests/1")
                .then().statusCode(400).body("errors[0].code", equalTo("MANIFEST_INVALID"))
                .body("errors[0].detail.reason", not(emptyString()));
        // short junk too, plain or gzip'd: a tar reader could take it for an empty archive
        for (byte[] shortJunk : new byte[][]{("short " + t).getBytes(StandardCharsets.UTF_8),
                TestImage.gzip(("short gz " + t).getBytes(StandardCharsets.UTF_8))}) {
            upload(t, "conf/junk", shortJunk);
            as(t).contentType(TestImage.OCI).body(manifest(config, List.of(shortJunk))).put("/v2/conf/junk/manifests/2")
                    .then().statusCode(400).body("errors[0].code", equalTo("MANIFEST_INVALID"))
                    .body("errors[0].detail.reason", org.hamcrest.Matchers.containsString("512-byte blocks"));
        }
        as(t).get("/images/json").then().statusCode(200).body("size()", equalTo(0));
        as(t).get("/v2/conf/junk/tags/list").then().statusCode(404).body("errors[0].code", equalTo("NAME_UNKNOWN"));
    }

    @Test
    void aRepositoryWhoseTagsWereAllDeletedListsNoTags() throws Exception {
        String t = tenant();
        byte[] layer = TestImage.gzip(TestImage.tar("x", "tags " + t));
        byte[] config = config("tags " + t);
        upload(t, "conf/tags", config);
        upload(t, "conf/tags", layer);
        putManifest(t, "conf/tags", "tagtest0", manifest(config, List.of(layer)));
        as(t).get("/v2/conf/tags/tags/list").then().statusCode(200).body("tags", equalTo(List.of("tagtest0")));

        as(t).delete("/v2/conf/tags/manifests/tagtest0").then().statusCode(202);
        as(t).get("/v2/conf/tags/tags/list").then().statusCode(200).contentType("application/json")
                .body("name", equalTo("conf/tags")).body("tags", equalTo(List.of()));

        // never tagged: unknown, for this tenant and for another one alike
        as(t).get("/v2/conf/never/tags/list").then().statusCode(404).body("errors[0].code", equalTo("NAME_UNKNOWN"));
        as(t).get("/v2/conf/tags/sub/tags/list").then().statusCode(404)
                .body("errors[0].code", equalTo("NAME_UNKNOWN"));
        as(tenant()).get("/v2/conf/tags/tags/list").then().statusCode(404)
                .body("errors[0].code", equalTo("NAME_UNKNOWN"));
    }

    @Test
    void aDeletedManifestsBlobsStayUntilTheyAreDeleted() throws Exception {
        String t = tenant();
        byte[] shared = TestImage.gzip(TestImage.tar("shared.txt", "shared " + t));
        byte[] configA = config("a " + t);
        byte[] configB = config("b " + t);
        for (byte[] blob : List.of(shared, configA, configB)) {
            upload(t, "conf/del", blob);
        }
        byte[] manifestA = manifest(configA, List.of(shared));
        putManifest(t, "conf/del", "a", manifestA);
        putManifest(t, "conf/del", "b", manifest(configB, List.of(shared)));

        // a blob an image holds cannot be deleted on its own
        as(t).delete("/v2/conf/del/blobs/" + TestImage.sha256(configA)).then().statusCode(405)
                .body("errors[0].code", equalTo("UNSUPPORTED"));
        as(t).get("/v2/conf/del/blobs/" + TestImage.sha256(configA)).then().statusCode(200);

        as(t).delete("/v2/conf/del/manifests/" + TestImage.sha256(manifestA)).then().statusCode(202);
        as(t).get("/v2/conf/del/manifests/" + TestImage.sha256(manifestA)).then().statusCode(404)
                .body("errors[0].code", equalTo("MANIFEST_UNKNOWN"));
        as(t).get("/v2/conf/del/tags/list").then().statusCode(200).body("tags", equalTo(List.of("b")));
        assertThat(blobFiles()).doesNotContain(TestImage.sha256(manifestA).substring(7));

        // its config is still there, byte for byte, until deleted; then 404, and the file is gone
        byte[] got = as(t).get("/v2/conf/del/blobs/" + TestImage.sha256(configA)).then().statusCode(200)
                .header("Docker-Content-Digest", TestImage.sha256(configA)).extract().asByteArray();
        assertThat(got).isEqualTo(configA);
        as(tenant()).delete("/v2/conf/del/blobs/" + TestImage.sha256(configA)).then().statusCode(404)
                .body("errors[0].code", equalTo("BLOB_UNKNOWN"));
        as(t).delete("/v2/conf/del/blobs/" + TestImage.sha256(configA)).then().statusCode(202);
        as(t).get("/v2/conf/del/blobs/" + TestImage.sha256(configA)).then().statusCode(404)
                .body("errors[0].code", equalTo("BLOB_UNKNOWN"));
        as(t).delete("/v2/conf/del/blobs/" + TestImage.sha256(configA)).then().statusCode(404)
                .body("errors[0].code", equalTo("BLOB_UNKNOWN"));
        assertThat(blobFiles()).doesNotContain(TestImage.sha256(configA).substring(7));

        // the layer image b still holds stays an image blob: not deletable, still served
        as(t).delete("/v2/conf/del/blobs/" + TestImage.sha256(shared)).then().statusCode(405)
                .body("errors[0].code", equalTo("UNSUPPORTED"));
        as(t).head("/v2/conf/del/blobs/" + TestImage.sha256(shared)).then().statusCode(200);

        as(t).delete("/v2/conf/del/blobs/sha256:nothex").then().statusCode(400)
                .body("errors[0].code", equalTo("DIGEST_INVALID"));
    }

    @Test
    void anUploadNoManifestClaimedCanBeDeleted() throws Exception {
        String t = tenant();
        byte[] blob = ("loose blob " + t).getBytes(StandardCharsets.UTF_8);
        upload(t, "conf/loose", blob);
        as(t).delete("/v2/conf/loose/blobs/" + TestImage.sha256(blob)).then().statusCode(202);
        as(t).head("/v2/conf/loose/blobs/" + TestImage.sha256(blob)).then().statusCode(404);
        assertThat(blobFiles()).doesNotContain(TestImage.sha256(blob).substring(7));
    }

    private static List<String> blobFiles() throws Exception {
        Path dir = STORE.resolve("blobs/sha256");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (var files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).toList();
        }
    }
}
