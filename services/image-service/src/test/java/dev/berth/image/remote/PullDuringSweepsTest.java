package dev.berth.image.remote;

import dev.berth.image.gc.BlobCollector;
import dev.berth.image.store.BlobStore;
import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.berth.image.remote.PullPushTest.as;
import static dev.berth.image.remote.PullPushTest.importImage;
import static dev.berth.image.remote.PullPushTest.pull;
import static dev.berth.image.remote.PullPushTest.statuses;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pulls from Debian's docker-registry while the blob collector sweeps over and over and the tenant keeps removing and
 * re-importing the image whose layer the pull reuses ("Already exists"): every pull must end with a whole image.
 */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class PullDuringSweepsTest {

    private static DockerRegistry registry;
    private static RawRegistry raw;

    @Inject
    BlobCollector collector;
    @Inject
    BlobStore blobs;
    @Inject
    DataSource db;

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

    @Test
    void everyPullRacingSweepsAndRemovalsEndsWithAWholeImage() throws Exception {
        String t = "p" + UUID.randomUUID().toString().substring(0, 8);
        String text = "base under sweeps " + t;
        RawRegistry.Pushed shared = raw.image("swept", "1", "amd64", text, null);
        RawRegistry.Pushed own = raw.image("swept", "2", "amd64", "own layer " + t, null);
        String name = registry.address() + "/swept";

        AtomicBoolean done = new AtomicBoolean();
        AtomicInteger sweeps = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<String> pulls = new ArrayList<>();
        try {
            Future<?> sweeper = pool.submit(() -> {
                while (!done.get()) {
                    collector.sweep();
                    sweeps.incrementAndGet();
                }
                return null;
            });
            Future<?> churn = pool.submit(() -> {
                // the image whose layer a pull of swept:1 reuses comes and goes
                while (!done.get()) {
                    importImage(t, "base:1", text);
                    as(t).delete("/images/base:1").then().statusCode(200);
                }
                return null;
            });
            for (int round = 0; round < 8; round++) {
                for (String tag : List.of("1", "2")) {
                    List<String> s = statuses(pull(t, name, tag, null));
                    pulls.addAll(s);
                    assertThat(s).as("round %d tag %s", round, tag).noneMatch(x -> x.startsWith("ERROR"))
                            .contains("Status: Downloaded newer image for " + name + ":" + tag);
                    assertWhole(t, tag, tag.equals("1") ? shared : own);
                    as(t).delete("/images/" + name + ":" + tag).then().statusCode(200);
                }
            }
            done.set(true);
            sweeper.get(60, TimeUnit.SECONDS);
            churn.get(60, TimeUnit.SECONDS);
        } finally {
            done.set(true);
            pool.shutdownNow();
        }
        assertThat(sweeps.get()).isPositive();
        // pulled again after all that, the image is still whole
        assertThat(statuses(pull(t, name, "1", null))).noneMatch(x -> x.startsWith("ERROR"));
        assertWhole(t, "1", shared);
    }

    /** The image's config, manifest and layer are stored and served, each with its digest. */
    private void assertWhole(String tenant, String tag, RawRegistry.Pushed expected) throws Exception {
        String name = registry.address() + "/swept:" + tag;
        as(tenant).get("/images/" + name + "/json").then().statusCode(200);
        String id = as(tenant).get("/images/" + name + "/json").then().extract().path("Id");
        List<String> layers = as(tenant).get("/images/" + name + "/json").then().extract().path("RootFS.Layers");
        assertThat(id).isEqualTo(expected.configDigest());
        assertThat(layers).containsExactly(expected.diffId());
        String manifest;
        try (Connection c = db.getConnection(); PreparedStatement q = c.prepareStatement(
                "select manifest_digest from image_view where tenant = ? and id = ?")) {
            q.setString(1, tenant);
            q.setString(2, id);
            try (ResultSet rs = q.executeQuery()) {
                assertThat(rs.next()).isTrue();
                manifest = rs.getString(1);
            }
        }
        for (String digest : List.of(id, expected.diffId(), manifest)) {
            assertThat(blobs.exists(digest)).as(digest).isTrue();
            assertThat(BlobStore.digestOf(blobs.path(digest))).isEqualTo(digest);
        }
    }
}
