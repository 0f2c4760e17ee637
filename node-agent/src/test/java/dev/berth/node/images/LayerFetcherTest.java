package dev.berth.node.images;

import dev.berth.events.node.NodeContainerSpec;
import dev.berth.node.TestImages;
import dev.berth.node.snapshot.OverlaySnapshotter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Layers fetched from a real registry (Debian's docker-registry) into a real overlay snapshotter. */
class LayerFetcherTest {
    private static RegistryServer registry;
    private static Path root;

    @BeforeAll
    static void up() throws Exception {
        registry = RegistryServer.start();
        root = Files.createTempDirectory(Path.of("/tmp"), "blf");
    }

    @AfterAll
    static void down() throws Exception {
        if (registry != null) {
            registry.close();
        }
        if (root != null) {
            try (Stream<Path> w = Files.walk(root)) {
                for (Path p : w.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static OverlaySnapshotter snapshotter(String name) throws Exception {
        return new OverlaySnapshotter(root.resolve(name).resolve("lib"), root.resolve(name).resolve("run"));
    }

    @Test
    void fetchesVerifiesAndUnpacksALayerOnceForConcurrentCreates() throws Exception {
        TestImages.Layer busybox = TestImages.busybox();
        byte[] blob = busybox.gzipped();
        String digest = registry.pushBlob("test/busybox", blob);
        try (OverlaySnapshotter snap = snapshotter("once")) {
            LayerFetcher fetcher = new LayerFetcher(URI.create(registry.url()), snap, root.resolve("once/tmp"));
            List<NodeContainerSpec.Layer> layers = List.of(new NodeContainerSpec.Layer(busybox.diffId(), digest,
                    "application/vnd.docker.image.rootfs.diff.tar.gzip", blob.length));
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                results.add(pool.submit((Callable<String>) () -> fetcher.ensure("test/busybox", layers)));
            }
            for (Future<String> f : results) {
                assertThat(f.get()).isEqualTo(busybox.diffId());
            }
            pool.shutdown();
            assertThat(snap.has(busybox.diffId())).isTrue();
            assertThat(registry.blobGets(digest)).isEqualTo(1);
            // present now: no second download
            fetcher.ensure("test/busybox", layers);
            assertThat(registry.blobGets(digest)).isEqualTo(1);
            try (Stream<Path> tmp = Files.list(root.resolve("once/tmp"))) {
                assertThat(tmp).isEmpty();
            }
        }
    }

    @Test
    void aBlobTheRegistryDoesNotHaveIs404() throws Exception {
        try (OverlaySnapshotter snap = snapshotter("missing")) {
            LayerFetcher fetcher = new LayerFetcher(URI.create(registry.url()), snap, root.resolve("missing/tmp"));
            String absent = "sha256:" + "ab".repeat(32);
            assertThatThrownBy(() -> fetcher.ensure("test/busybox", List.of(new NodeContainerSpec.Layer(absent, absent,
                    "application/vnd.oci.image.layer.v1.tar", 0))))
                    .isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.status()).isEqualTo(404))
                    .hasMessageContaining(absent);
            assertThat(snap.has(absent)).isFalse();
        }
    }

    @Test
    void aBlobWhoseContentDoesNotMatchItsDiffIdLeavesNothing() throws Exception {
        TestImages.Layer small = TestImages.layer().file("hello.txt", "hi\n", 0644).build();
        byte[] blob = small.tar();
        String digest = registry.pushBlob("test/other", blob);
        String wrongDiffId = "sha256:" + "cd".repeat(32);
        try (OverlaySnapshotter snap = snapshotter("wrong")) {
            LayerFetcher fetcher = new LayerFetcher(URI.create(registry.url()), snap, root.resolve("wrong/tmp"));
            assertThatThrownBy(() -> fetcher.ensure("test/other", List.of(new NodeContainerSpec.Layer(wrongDiffId,
                    digest, "application/vnd.oci.image.layer.v1.tar", blob.length))))
                    .isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.status()).isEqualTo(500));
            assertThat(snap.has(wrongDiffId)).isFalse();
            try (Stream<Path> layersDir = Files.list(snap.root().resolve("layers"))) {
                assertThat(layersDir).isEmpty();
            }
            try (Stream<Path> tmp = Files.list(root.resolve("wrong/tmp"))) {
                assertThat(tmp).isEmpty();
            }
        }
    }

    @Test
    void aMalformedRepositoryOrDigestIs400() throws Exception {
        try (OverlaySnapshotter snap = snapshotter("bad")) {
            LayerFetcher fetcher = new LayerFetcher(URI.create(registry.url()), snap, root.resolve("bad/tmp"));
            String d = "sha256:" + "ef".repeat(32);
            assertThatThrownBy(() -> fetcher.ensure("../etc", List.of(new NodeContainerSpec.Layer(d, d, null, 0))))
                    .isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.status()).isEqualTo(400));
            assertThatThrownBy(() -> fetcher.ensure("test/x", List.of(new NodeContainerSpec.Layer("md5:1", d, null, 0))))
                    .isInstanceOfSatisfying(ImageException.class, e -> assertThat(e.status()).isEqualTo(400));
        }
    }
}
