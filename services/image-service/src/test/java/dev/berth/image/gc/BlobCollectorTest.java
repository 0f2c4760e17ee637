package dev.berth.image.gc;

import dev.berth.image.domain.ImageConfigs;
import dev.berth.image.domain.ImageEvent.ImageImported;
import dev.berth.image.domain.ImageEvent.Layer;
import dev.berth.image.domain.Reference;
import dev.berth.image.persistence.ImageOperations;
import dev.berth.image.store.BlobStore;
import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

/**
 * Blob collection against a real PostgreSQL, Kafka broker and blob store: leases keep what operations in flight hold,
 * sweeps delete everything else (and stale temporary files), removals report the bytes they freed.
 */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class BlobCollectorTest {

    private static final Path ROOT = Path.of("target/image-store");

    @Inject
    BlobCollector collector;
    @Inject
    Leases leases;
    @Inject
    BlobStore blobs;
    @Inject
    ImageOperations operations;
    @Inject
    DataSource db;

    private static String tenant() {
        return "g" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static RequestSpecification as(String tenant) {
        return given().header("X-Berth-Tenant", tenant);
    }

    private static byte[] rootfs(String content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            byte[] data = content.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry f = new TarArchiveEntry("hello.txt");
            f.setSize(data.length);
            f.setMode(0100644);
            tar.putArchiveEntry(f);
            tar.write(data);
            tar.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }

    /** {@code docker import}; the image id. */
    private static String importImage(String tenant, byte[] rootfs, String repo) {
        RequestSpecification spec = as(tenant).contentType("text/plain").body(rootfs).queryParam("fromSrc", "-");
        if (repo != null) {
            spec = spec.queryParam("repo", repo);
        }
        String body = spec.post("/images/create").then().statusCode(200).extract().asString();
        int at = body.indexOf("sha256:");
        return body.substring(at, at + 71);
    }

    private static String layerOf(String tenant, String image) {
        return as(tenant).get("/images/" + image + "/json").then().statusCode(200).extract()
                .path("RootFS.Layers[0]");
    }

    private String manifestOf(String tenant, String image) throws Exception {
        try (Connection c = db.getConnection(); PreparedStatement q = c.prepareStatement(
                "select manifest_digest from image_view where tenant = ? and id = ?")) {
            q.setString(1, tenant);
            q.setString(2, image);
            try (var rs = q.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getString(1);
            }
        }
    }

    /** The blob as the registry API serves it to the tenant, checked against its digest. */
    private static void assertServed(String tenant, String repository, String digest) {
        byte[] body = as(tenant).get("/v2/" + repository + "/blobs/" + digest).then().statusCode(200).extract()
                .asByteArray();
        assertThat(BlobStore.digest(body)).isEqualTo(digest);
    }

    @Test
    void aLeaseHeldAcrossARemovalAndSweepsKeepsTheBlobAndTheOperationCommitsAWholeImage() throws Exception {
        String t = tenant();
        String first = importImage(t, rootfs("shared layer " + t), "gcfirst:1");
        String layer = layerOf(t, first);

        // an operation (a pull finding "Already exists", a build reusing a cached step) has found the layer
        try (Leases.Lease lease = leases.open("test operation")) {
            lease.hold(layer);
            as(t).delete("/images/gcfirst:1").then().statusCode(200);
            collector.sweep();
            collector.sweep();
            assertThat(blobs.exists(layer)).isTrue();

            // ... and now records its own image over that layer
            Instant created = Instant.now();
            byte[] config = ImageConfigs.importedConfig(ImageConfigs.emptyContainerConfig(),
                    ImageOperations.architecture(), "linux", "second", created, layer);
            BlobStore.Staged configBlob = blobs.stageBytes(config);
            Layer l = new Layer(layer, layer, blobs.size(layer), ImageOperations.LAYER_TAR, 0);
            BlobStore.Staged manifest = blobs.stageBytes(ImageOperations.manifest(configBlob, List.of(l)));
            ImageImported image = new ImageImported(configBlob.digest(), configBlob.digest(), manifest.digest(),
                    ImageOperations.MANIFEST_V2, List.of(l), ImageConfigs.runtime(ImageConfigs.read(config)),
                    ImageOperations.architecture(), "linux", "second", created, 0, List.of());
            operations.add(lease, t, image, List.of(Reference.parse("gcsecond:1")),
                    new ArrayList<>(List.of(configBlob, manifest)));
        }
        collector.sweep();

        as(t).get("/images/gcsecond:1/json").then().statusCode(200).body("RootFS.Layers[0]", equalTo(layer));
        assertServed(t, "gcsecond", layer);
        String id = as(t).get("/images/gcsecond:1/json").then().extract().path("Id");
        assertServed(t, "gcsecond", id);
        byte[] manifest = as(t).get("/v2/gcsecond/manifests/1").then().statusCode(200).extract().asByteArray();
        assertThat(new String(manifest, StandardCharsets.UTF_8)).contains(layer);
    }

    @Test
    void anExpiredLeaseNoLongerProtects() throws Exception {
        String t = tenant();
        String id = importImage(t, rootfs("lapsed " + t), "gclapsed:1");
        String layer = layerOf(t, id);
        try (Leases.Lease lease = leases.open("crashed operation")) {
            lease.hold(layer);
            // the holder stopped renewing (it crashed): its lease runs out
            try (Connection c = db.getConnection(); PreparedStatement lapse = c.prepareStatement(
                    "update blob_lease set expires_at = now() - interval '1 second' where holder = ?")) {
                lapse.setObject(1, lease.holder());
                assertThat(lapse.executeUpdate()).isEqualTo(1);
            }
            as(t).delete("/images/gclapsed:1").then().statusCode(200);
            collector.sweep();
            assertThat(blobs.exists(layer)).isFalse();
            assertThat(blobs.exists(id)).isFalse();
        }
    }

    @Test
    void aSweepDeletesUnreferencedBlobsAndStaleTemporaryFilesOnly() throws Exception {
        String t = tenant();
        String kept = importImage(t, rootfs("kept " + t), "gckept:1");
        String keptLayer = layerOf(t, kept);
        String keptManifest = manifestOf(t, kept);

        BlobStore.Staged orphan = blobs.stageBytes(("orphan " + t).getBytes(StandardCharsets.UTF_8));
        blobs.commit(orphan);
        assertThat(blobs.exists(orphan.digest())).isTrue();
        // registry uploads no manifest claimed: a fresh one stays, one older than the upload TTL (24h) goes
        BlobStore.Staged unclaimed = blobs.stageBytes(("unclaimed " + t).getBytes(StandardCharsets.UTF_8));
        BlobStore.Staged waiting = blobs.stageBytes(("waiting " + t).getBytes(StandardCharsets.UTF_8));
        try (Connection c = db.getConnection();
             PreparedStatement p = c.prepareStatement("insert into pushed_blob (tenant, digest, pushed_at)"
                     + " values (?, ?, now() - interval '25 hours'), (?, ?, now())")) {
            p.setString(1, t);
            p.setString(2, unclaimed.digest());
            p.setString(3, t);
            p.setString(4, waiting.digest());
            p.executeUpdate();
        }
        blobs.commit(unclaimed);
        blobs.commit(waiting);

        Path tmp = Files.createDirectories(ROOT.resolve("tmp"));
        FileTime old = FileTime.from(Instant.now().minus(Duration.ofHours(3)));
        Path stale = Files.writeString(tmp.resolve("stale-" + t + ".part"), "left by a crash");
        Files.setLastModifiedTime(stale, old);
        Path staleDir = Files.createDirectories(tmp.resolve("build-stale-" + t).resolve("context"));
        Files.writeString(staleDir.resolve("Dockerfile"), "FROM scratch\n");
        Files.setLastModifiedTime(staleDir.resolve("Dockerfile"), old);
        Files.setLastModifiedTime(staleDir, old);
        Files.setLastModifiedTime(staleDir.getParent(), old);
        Path fresh = Files.writeString(tmp.resolve("fresh-" + t + ".part"), "being written");
        Path heldOld = Files.writeString(tmp.resolve("held-" + t + ".part"), "a long build's context");
        Files.setLastModifiedTime(heldOld, old);
        blobs.hold(heldOld);
        try {
            collector.sweep();

            assertThat(blobs.exists(orphan.digest())).isFalse();
            assertThat(blobs.exists(unclaimed.digest())).isFalse();
            assertThat(blobs.exists(waiting.digest())).isTrue();
            assertThat(blobs.exists(kept)).isTrue();
            assertThat(blobs.exists(keptLayer)).isTrue();
            assertThat(blobs.exists(keptManifest)).isTrue();
            assertThat(BlobStore.digestOf(blobs.path(keptLayer))).isEqualTo(keptLayer);
            assertThat(stale).doesNotExist();
            assertThat(staleDir.getParent()).doesNotExist();
            assertThat(fresh).exists();
            assertThat(heldOld).exists();
        } finally {
            blobs.release(heldOld);
            Files.deleteIfExists(fresh);
            Files.deleteIfExists(heldOld);
        }
        as(t).get("/images/gckept:1/json").then().statusCode(200);
        assertServed(t, "gckept", keptLayer);
    }

    @Test
    void pruneReportsTheBytesItFreedAndNotThoseOthersStillHold() throws Exception {
        String t = tenant();
        byte[] shared = rootfs("shared by two " + t);
        String tagged = importImage(t, shared, "gcshared:1");
        String dangling = importImage(t, rootfs("alone " + t), null);
        String danglingLayer = layerOf(t, dangling);
        String danglingManifest = manifestOf(t, dangling);
        long expected = blobs.size(dangling) + blobs.size(danglingLayer) + blobs.size(danglingManifest);
        assertThat(tagged).isNotEqualTo(dangling);

        long reclaimed = ((Number) as(t).post("/images/prune").then().statusCode(200)
                .body("ImagesDeleted[0].Deleted", equalTo(dangling)).extract().path("SpaceReclaimed")).longValue();
        assertThat(reclaimed).isEqualTo(expected);
        assertThat(blobs.exists(danglingLayer)).isFalse();
        assertThat(blobs.exists(layerOf(t, tagged))).isTrue();
    }
}
