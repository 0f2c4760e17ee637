package dev.berth.node.snapshot;

import dev.berth.node.TestImages;
import dev.berth.node.TestImages.Layer;
import dev.berth.node.nativeio.Libc;
import dev.berth.node.snapshot.Snapshotter.LayerException;
import dev.berth.node.snapshot.Snapshotter.RootfsMount;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LayerUnpackTest {
    private SnapshotFixture fx;
    private OverlaySnapshotter snap;

    @BeforeEach
    void setUp() throws IOException {
        fx = new SnapshotFixture();
        snap = fx.snapshotter;
    }

    @AfterEach
    void tearDown() throws IOException {
        fx.close();
    }

    @Test
    void chainIdsFollowTheOciImageSpec() throws Exception {
        String d0 = "sha256:" + "a".repeat(64);
        String d1 = "sha256:" + "b".repeat(64);
        assertThat(OverlaySnapshotter.chainId(null, d0)).isEqualTo(d0);
        String expected = TestImages.sha256((d0 + " " + d1).getBytes(StandardCharsets.UTF_8));
        assertThat(OverlaySnapshotter.chainId(d0, d1)).isEqualTo(expected);
        assertThat(OverlaySnapshotter.chainId(List.of(d0, d1))).isEqualTo(expected);
        assertThat(OverlaySnapshotter.chainId(List.of())).isNull();
    }

    @Test
    void ownersModesLinksDevicesFifosXattrsAndMtimesAreKept() throws Exception {
        long t = 1_600_000_000L;
        Layer layer = TestImages.layer()
                .dir("srv", 0750, e -> { e.setUserId(1000); e.setGroupId(1001); e.setModTime(t * 1000); })
                .file("srv/suid", "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8), 04755, e -> { e.setUserId(123); e.setGroupId(456); })
                .file("srv/sgid", new byte[]{1, 2, 3}, 02711, e -> e.setGroupId(50))
                .dir("shared", 01777)
                .symlink("srv/rel", "suid")
                .symlink("srv/abs", "/etc/passwd", e -> { e.setUserId(7); e.setGroupId(8); })
                .hardlink("srv/suid-again", "srv/suid")
                .charDevice("dev-null", 1, 3, 0666)
                .blockDevice("loop9", 7, 9, 0660)
                .fifo("srv/pipe", 0620)
                .file("srv/tagged", "x".getBytes(StandardCharsets.UTF_8), 0644,
                        e -> e.addPaxHeader("SCHILY.xattr.user.greeting", "hello"))
                .file("srv/old", "old".getBytes(StandardCharsets.UTF_8), 0600, e -> e.setModTime(t * 1000))
                .build();

        String chain = snap.unpack(null, layer.diffId(), layer.open());

        assertThat(chain).isEqualTo(layer.diffId());
        assertThat(snap.has(chain)).isTrue();
        Path d = fx.diffOf(chain);
        Map<String, Object> srv = SnapshotFixture.stat(d.resolve("srv"));
        assertThat((Integer) srv.get("mode")).isEqualTo(0040750);
        assertThat(srv.get("uid")).isEqualTo(1000);
        assertThat(srv.get("gid")).isEqualTo(1001);
        // directory mtimes are set last, after their content was written
        assertThat(((FileTime) srv.get("lastModifiedTime")).toMillis()).isEqualTo(t * 1000);

        Map<String, Object> suid = SnapshotFixture.stat(d.resolve("srv/suid"));
        assertThat((Integer) suid.get("mode")).isEqualTo(0104755);
        assertThat(suid.get("uid")).isEqualTo(123);
        assertThat(suid.get("gid")).isEqualTo(456);
        assertThat(suid.get("nlink")).isEqualTo(2);
        assertThat(SnapshotFixture.stat(d.resolve("srv/suid-again")).get("ino")).isEqualTo(suid.get("ino"));
        assertThat(SnapshotFixture.mode(d.resolve("srv/sgid"))).isEqualTo(0102711);
        assertThat(SnapshotFixture.stat(d.resolve("srv/sgid")).get("gid")).isEqualTo(50);
        assertThat(SnapshotFixture.mode(d.resolve("shared"))).isEqualTo(0041777);

        assertThat(Files.readSymbolicLink(d.resolve("srv/rel"))).isEqualTo(Path.of("suid"));
        assertThat(Files.readSymbolicLink(d.resolve("srv/abs"))).isEqualTo(Path.of("/etc/passwd"));
        assertThat(SnapshotFixture.stat(d.resolve("srv/abs")).get("uid")).isEqualTo(7);
        assertThat(SnapshotFixture.stat(d.resolve("srv/abs")).get("gid")).isEqualTo(8);

        Map<String, Object> nul = SnapshotFixture.stat(d.resolve("dev-null"));
        assertThat((Integer) nul.get("mode")).isEqualTo(0020666);
        assertThat(nul.get("rdev")).isEqualTo(Libc.makedev(1, 3));
        Map<String, Object> loop = SnapshotFixture.stat(d.resolve("loop9"));
        assertThat((Integer) loop.get("mode")).isEqualTo(0060660);
        assertThat(loop.get("rdev")).isEqualTo(Libc.makedev(7, 9));
        assertThat(SnapshotFixture.mode(d.resolve("srv/pipe"))).isEqualTo(0010620);

        assertThat(Libc.lgetxattr(d.resolve("srv/tagged").toString(), "user.greeting"))
                .isEqualTo("hello".getBytes(StandardCharsets.UTF_8));
        assertThat(((FileTime) SnapshotFixture.stat(d.resolve("srv/old")).get("lastModifiedTime")).toMillis())
                .isEqualTo(t * 1000);
        assertThat(Files.readString(d.resolve("srv/old"))).isEqualTo("old");
    }

    @Test
    void binaryXattrsSuchAsFileCapabilitiesSurviveExactly() throws Exception {
        // cap_setuid+ep as VFS_CAP_REVISION_2: the 0x80 byte is not valid UTF-8 on its own.
        byte[] capability = {0x01, 0x00, 0x00, 0x02, (byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        byte[] binary = {(byte) 0xff, (byte) 0xfe, 0x00, 0x01, '=', '\n'};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(out);
        byte[] content = "ping".getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> x = new LinkedHashMap<>();
        x.put("security.capability", capability);
        x.put("user.blob", binary);
        w.header("bin/", '5', 0755, 0, 0, 0, 0, null, 0, 0, Map.of());
        w.header("bin/ping", '0', 04711, 0, 0, content.length, 0, null, 0, 0, x);
        w.data(new ByteArrayInputStream(content));
        w.finish();
        byte[] tar = out.toByteArray();

        String chain = snap.unpack(null, TestImages.sha256(tar), new ByteArrayInputStream(tar));

        String ping = fx.diffOf(chain).resolve("bin/ping").toString();
        assertThat(Libc.lgetxattr(ping, "security.capability")).isEqualTo(capability);
        assertThat(Libc.lgetxattr(ping, "user.blob")).isEqualTo(binary);
        assertThat(SnapshotFixture.mode(Path.of(ping))).isEqualTo(0104711);
    }

    @Test
    void aufsWhiteoutsBecomeOverlayWhiteoutsAndOpaqueDirectories() throws Exception {
        Layer base = TestImages.layer().dir("etc", 0755).file("etc/a", "a", 0644).build();
        Layer top = TestImages.layer()
                .dir("etc", 0755).whiteout("etc/a")
                .dir("opt", 0755).opaque("opt").file("opt/new", "n", 0644)
                .file(".wh..wh.plnk/1234.5678", "aufs hardlink bookkeeping", 0644)
                .build();
        String c0 = snap.unpack(null, base.diffId(), base.open());
        String c1 = snap.unpack(c0, top.diffId(), top.open());

        Path d = fx.diffOf(c1);
        assertThat(SnapshotFixture.isWhiteout(d.resolve("etc/a"))).isTrue();
        assertThat(Files.exists(d.resolve("etc/.wh.a"), LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(SnapshotFixture.opaque(d.resolve("opt"))).isEqualTo("y");
        assertThat(Files.exists(d.resolve("opt/.wh..wh..opq"), LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(Files.exists(d.resolve(".wh..wh.plnk"), LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(SnapshotFixture.opaque(d.resolve("etc"))).isNull();
    }

    @Test
    void gzipLayersAreDetectedAndVerifiedAgainstTheUncompressedDigest() throws Exception {
        Layer layer = TestImages.layer().file("hello", "world", 0644).build();
        String chain = snap.unpack(null, layer.diffId(), new ByteArrayInputStream(layer.gzipped()));
        assertThat(Files.readString(fx.diffOf(chain).resolve("hello"))).isEqualTo("world");
    }

    @Test
    void anUnpackedChainIsNotReadAgain() throws Exception {
        Layer layer = TestImages.layer().file("hello", "world", 0644).build();
        String chain = snap.unpack(null, layer.diffId(), layer.open());
        InputStream mustNotBeRead = new InputStream() {
            @Override
            public int read() throws IOException {
                throw new IOException("the layer was read a second time");
            }
        };
        assertThat(snap.unpack(null, layer.diffId(), mustNotBeRead)).isEqualTo(chain);
        assertThat(fx.list("layers")).hasSize(1);
        assertThat(fx.list("l")).hasSize(1);
    }

    @Test
    void aDigestMismatchIsRefusedAndLeavesNothing() throws Exception {
        Layer layer = TestImages.layer().file("hello", "world", 0644).build();
        String claimed = "sha256:" + "0".repeat(64);
        assertThatThrownBy(() -> snap.unpack(null, claimed, layer.open()))
                .isInstanceOf(LayerException.class)
                .hasMessage("layer " + claimed + " digest mismatch: got " + layer.diffId());
        assertStoreEmpty();
    }

    @Test
    void aCorruptTarIsRefusedNamingTheLayerAndTheDefect() throws Exception {
        byte[] tar = TestImages.layer().file("hello", "world", 0644).build().tar();
        byte[] badChecksum = tar.clone();
        badChecksum[0] = 'j'; // the name changes, the checksum field does not
        assertThatThrownBy(() -> snap.unpack(null, TestImages.sha256(badChecksum), new ByteArrayInputStream(badChecksum)))
                .isInstanceOf(LayerException.class)
                .hasMessageStartingWith("layer " + TestImages.sha256(badChecksum) + ": invalid tar: ")
                .hasMessageContaining("checksum");
        assertStoreEmpty();

        byte[] truncated = Arrays.copyOf(tar, 700);
        assertThatThrownBy(() -> snap.unpack(null, TestImages.sha256(truncated), new ByteArrayInputStream(truncated)))
                .isInstanceOf(LayerException.class)
                .hasMessageStartingWith("layer " + TestImages.sha256(truncated) + ": invalid tar: ")
                .hasMessageContaining("unexpected end of archive in the data of \"hello\"");
        assertStoreEmpty();

        byte[] gzipGarbage = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        assertThatThrownBy(() -> snap.unpack(null, TestImages.sha256(gzipGarbage), new ByteArrayInputStream(gzipGarbage)))
                .isInstanceOf(LayerException.class)
                .hasMessageStartingWith("layer " + TestImages.sha256(gzipGarbage) + ": ");
        assertStoreEmpty();
    }

    @Test
    void aMissingParentIsNamed() throws Exception {
        Layer layer = TestImages.layer().file("hello", "world", 0644).build();
        String parent = "sha256:" + "1".repeat(64);
        assertThatThrownBy(() -> snap.unpack(parent, layer.diffId(), layer.open()))
                .isInstanceOf(LayerException.class)
                .hasMessage("layer " + layer.diffId() + ": parent layer chain " + parent + " is not unpacked on this node");
        assertStoreEmpty();
    }

    @Test
    void dotDotEscapesAreRefused() throws Exception {
        String outside = "berth-escape-" + ProcessHandle.current().pid();
        Layer layer = TestImages.layer().file("ok", "fine", 0644).file("a/../../../" + outside, "pwned", 0644).build();
        assertRefused(layer, "escapes the layer directory");
        assertThat(fx.base.getParent().resolve(outside)).doesNotExist();
        assertThat(fx.root.resolve(outside)).doesNotExist();
    }

    @Test
    void writingThroughAnAbsoluteSymlinkIsRefused() throws Exception {
        Path victim = Files.createDirectory(fx.base.resolve("victim"));
        Layer layer = TestImages.layer()
                .symlink("evil", victim.toString())
                .file("evil/pwned", "pwned", 0644)
                .build();
        assertRefused(layer, "passes through the symlink \"evil\"");
        assertThat(victim.resolve("pwned")).doesNotExist();

        // a directory seen earlier in the same tar, then replaced by a symlink
        Layer swapped = TestImages.layer()
                .dir("a", 0755).file("a/f", "f", 0644)
                .symlink("a", victim.toString())
                .file("a/pwned", "pwned", 0644)
                .build();
        assertRefused(swapped, "passes through the symlink \"a\"");
        assertThat(victim.resolve("pwned")).doesNotExist();
    }

    @Test
    void symlinksAndHardlinksPointingOutOfTheLayerAreRefused() throws Exception {
        assertRefused(TestImages.layer().dir("a", 0755).symlink("a/up", "../../etc").build(),
                "is a symlink to \"../../etc\", which points outside the layer");
        assertRefused(TestImages.layer().hardlink("shadow", "../../../../etc/shadow").build(),
                "is a hard link to \"../../../../etc/shadow\", which is outside the layer");
        assertRefused(TestImages.layer().hardlink("shadow", "etc/shadow").build(),
                "which is not in this layer");
        // a hard link may not reach through a symlink either
        assertRefused(TestImages.layer().symlink("etc", "/etc").hardlink("shadow", "etc/shadow").build(),
                "passes through the symlink \"etc\"");
    }

    @Test
    void twoConcurrentUnpacksOfOneChainAreSafe() throws Exception {
        Layer busybox = TestImages.busybox();
        int n = 4;
        CyclicBarrier start = new CyclicBarrier(n);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        // separate snapshotter instances share nothing in memory: only the rename decides
        List<OverlaySnapshotter> instances = new ArrayList<>();
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                OverlaySnapshotter s = i % 2 == 0 ? snap : new OverlaySnapshotter(fx.root, fx.runRoot);
                instances.add(s);
                results.add(pool.submit(() -> {
                    start.await();
                    return s.unpack(null, busybox.diffId(), busybox.open());
                }));
            }
            for (Future<String> f : results) {
                assertThat(f.get()).isEqualTo(busybox.diffId());
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(fx.list("layers")).containsExactly(busybox.hex());
        assertThat(fx.list("l")).hasSize(1);
        assertThat(Files.isExecutable(fx.diffOf(busybox.diffId()).resolve("bin/busybox"))).isTrue();
    }

    @Test
    void gnuLongNamesAndPaxGlobalHeadersAreRead() throws Exception {
        String longDir = "d".repeat(90) + "/" + "e".repeat(90);
        String longName = longDir + "/" + "f".repeat(120);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        // what git archive writes first: a global header (that must not rename every entry after it)
        byte[] comment = "26 path=pax_global_header\n".getBytes(StandardCharsets.US_ASCII);
        TarWriter w = new TarWriter(bytes);
        w.header("pax_global_header", 'g', 0644, 0, 0, comment.length, 0, null, 0, 0, Map.of());
        w.data(new ByteArrayInputStream(comment));
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_GNU);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_STAR);
            TarArchiveEntry file = new TarArchiveEntry(longName);
            byte[] content = "deep".getBytes(StandardCharsets.UTF_8);
            file.setSize(content.length);
            file.setMode(0640);
            file.setUserId(3_000_000); // above the 7-digit octal field: base-256
            file.setGroupId(42);
            tar.putArchiveEntry(file);
            tar.write(content);
            tar.closeArchiveEntry();
            TarArchiveEntry link = new TarArchiveEntry("short-link", TarConstants.LF_SYMLINK);
            link.setLinkName(longName);
            tar.putArchiveEntry(link);
            tar.closeArchiveEntry();
        }
        byte[] tar = bytes.toByteArray();

        String chain = snap.unpack(null, TestImages.sha256(tar), new ByteArrayInputStream(tar));

        Path d = fx.diffOf(chain);
        assertThat(Files.readString(d.resolve(longName))).isEqualTo("deep");
        assertThat(SnapshotFixture.stat(d.resolve(longName)).get("uid")).isEqualTo(3_000_000);
        assertThat(SnapshotFixture.stat(d.resolve(longName)).get("gid")).isEqualTo(42);
        assertThat(Files.readSymbolicLink(d.resolve("short-link")).toString()).isEqualTo(longName);
        assertThat(d.resolve("pax_global_header")).doesNotExist();
        try (Stream<Path> top = Files.list(d)) {
            assertThat(top.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly("d".repeat(90), "short-link");
        }
    }

    @Test
    void theDiffWriterAndReaderRoundTripLongAndNonAsciiNamesLargeIdsAndXattrs() throws Exception {
        RootfsMount m = snap.prepare(fx.container("rt"), null);
        Path up = m.upperDir();
        String deep = "p".repeat(120) + "/" + "q".repeat(120);
        Files.createDirectories(up.resolve(deep));
        Files.writeString(up.resolve(deep).resolve("données-ü.txt"), "unicode");
        Path big = Files.writeString(up.resolve("big-owner"), "x");
        Libc.lchown(big.toString(), 3_000_000, 4_000_000);
        Libc.lsetxattr(big.toString(), "user.raw", new byte[]{(byte) 0xc3, 0x28, 0x00, (byte) 0xff});
        Files.createSymbolicLink(up.resolve("far"), Path.of(deep + "/données-ü.txt"));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        snap.exportDiff("rt", out);
        byte[] tar = out.toByteArray();
        String chain = snap.unpack(null, TestImages.sha256(tar), new ByteArrayInputStream(tar));

        Path d = fx.diffOf(chain);
        assertThat(Files.readString(d.resolve(deep).resolve("données-ü.txt"))).isEqualTo("unicode");
        assertThat(SnapshotFixture.stat(d.resolve("big-owner")).get("uid")).isEqualTo(3_000_000);
        assertThat(SnapshotFixture.stat(d.resolve("big-owner")).get("gid")).isEqualTo(4_000_000);
        assertThat(Libc.lgetxattr(d.resolve("big-owner").toString(), "user.raw"))
                .isEqualTo(new byte[]{(byte) 0xc3, 0x28, 0x00, (byte) 0xff});
        assertThat(Files.readSymbolicLink(d.resolve("far"))).isEqualTo(Path.of(deep + "/données-ü.txt"));

        // and another tar implementation reads it the same way
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                names.add(e.getName());
                if (e.getName().equals("big-owner")) {
                    assertThat(e.getLongUserId()).isEqualTo(3_000_000);
                }
            }
        }
        assertThat(names).contains(deep + "/données-ü.txt", "big-owner", "far", "p".repeat(120) + "/");
    }

    @Test
    void leftoversOfAnInterruptedUnpackAreSweptAtStart() throws Exception {
        Layer layer = TestImages.layer().file("hello", "world", 0644).build();
        String chain = snap.unpack(null, layer.diffId(), layer.open());
        Path tmp = Files.createDirectories(fx.root.resolve("layers/tmp-123/diff/half"));
        Path dangling = Files.createSymbolicLink(fx.root.resolve("l/ZZZZZZZZZZZZ"), Path.of("../layers/tmp-123/x/diff"));

        new OverlaySnapshotter(fx.root, fx.runRoot).close();

        assertThat(tmp.getParent().getParent()).doesNotExist();
        assertThat(Files.exists(dangling, LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(fx.list("layers")).containsExactly(layer.hex());
        assertThat(fx.list("l")).hasSize(1);
        assertThat(snap.has(chain)).isTrue();
    }

    private void assertRefused(Layer layer, String reason) throws IOException {
        assertThatThrownBy(() -> snap.unpack(null, layer.diffId(), layer.open()))
                .isInstanceOf(LayerException.class)
                .hasMessageStartingWith("layer " + layer.diffId() + ": entry ")
                .hasMessageContaining(reason);
        assertStoreEmpty();
    }

    private void assertStoreEmpty() throws IOException {
        assertThat(fx.list("layers")).as("layer store").isEqualTo(Collections.emptyList());
        assertThat(fx.list("l")).as("short links").isEqualTo(Collections.emptyList());
    }
}
