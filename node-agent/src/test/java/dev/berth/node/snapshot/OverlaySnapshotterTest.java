package dev.berth.node.snapshot;

import dev.berth.node.TestImages;
import dev.berth.node.TestImages.Layer;
import dev.berth.node.snapshot.Snapshotter.LayerException;
import dev.berth.node.snapshot.Snapshotter.RootfsMount;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OverlaySnapshotterTest {
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
    void aShellFromTheMountedBusyboxRootfsRuns() throws Exception {
        Layer busybox = TestImages.busybox();
        String chain = snap.unpack(null, busybox.diffId(), new ByteArrayInputStream(busybox.gzipped()));
        String id = fx.container("c1");

        RootfsMount m = snap.prepare(id, chain);
        snap.mount(m);
        snap.mount(m); // idempotent

        assertThat(m.lowerDirs()).hasSize(1);
        assertThat(m.lowerDirs().get(0).toRealPath()).isEqualTo(fx.diffOf(chain).toRealPath());
        assertThat(fx.mountsBelowBase()).containsExactly(m.target().toString());
        // renamed directories must be copied up, not redirected, so that the upper dir is the whole diff
        assertThat(SnapshotFixture.superOptions(m.target())).contains("redirect_dir=nofollow")
                .contains("lowerdir=" + m.lowerDirs().get(0));
        assertThat(run("chroot", m.target().toString(), "/bin/busybox", "echo", "hi")).isEqualTo("hi\n");
        assertThat(run("chroot", m.target().toString(), "/bin/sh", "-c", "echo $((6*7)) > /tmp/answer; cat /tmp/answer"))
                .isEqualTo("42\n");

        snap.remove(id);

        assertNoTraceOf(id, m);
        assertThat(snap.has(chain)).as("the layer stays for other containers").isTrue();
    }

    @Test
    void whiteoutsAndOpaqueDirectoriesOfALaterLayerShowInTheMergedRootfs() throws Exception {
        Layer base = TestImages.layer()
                .dir("etc", 0755).file("etc/keep", "k", 0644).file("etc/gone", "g", 0644)
                .dir("opt", 0755).file("opt/old1", "1", 0644).dir("opt/sub", 0755).file("opt/sub/old2", "2", 0644)
                .file("top", "t", 0644)
                .dir("dirgone", 0755).dir("dirgone/sub", 0755).file("dirgone/sub/x", "x", 0644)
                .build();
        Layer top = TestImages.layer()
                .dir("etc", 0755).whiteout("etc/gone")
                .dir("opt", 0755).opaque("opt").file("opt/new", "n", 0644)
                .whiteout("top")
                .whiteout("dirgone")
                .build();
        String c0 = snap.unpack(null, base.diffId(), base.open());
        String c1 = snap.unpack(c0, top.diffId(), top.open());
        RootfsMount m = snap.prepare(fx.container("c2"), c1);
        snap.mount(m);
        Path r = m.target();

        assertThat(m.lowerDirs()).hasSize(2);
        assertThat(Files.readString(r.resolve("etc/keep"))).isEqualTo("k");
        assertThat(r.resolve("etc/gone")).doesNotExist();
        assertThat(r.resolve("top")).doesNotExist();
        assertThat(r.resolve("dirgone")).doesNotExist();
        assertThat(list(r)).containsExactly("etc", "opt");
        assertThat(list(r.resolve("opt"))).containsExactly("new");
        assertThat(list(r.resolve("etc"))).containsExactly("keep");
    }

    @Test
    void writesInTheRootfsStayInTheContainersUpperDir() throws Exception {
        Layer busybox = TestImages.busybox();
        String chain = snap.unpack(null, busybox.diffId(), busybox.open());
        Path lower = fx.diffOf(chain);
        String passwdBefore = Files.readString(lower.resolve("etc/passwd"));
        RootfsMount a = snap.prepare(fx.container("writer"), chain);
        RootfsMount b = snap.prepare(fx.container("reader"), chain);
        snap.mount(a);
        snap.mount(b);

        run("chroot", a.target().toString(), "/bin/sh", "-c",
                "echo extra >> /etc/passwd && rm /etc/group && echo new > /root/file && rm -rf /home && mkdir /home && touch /home/x");

        assertThat(Files.readString(a.target().resolve("etc/passwd"))).isEqualTo(passwdBefore + "extra\n");
        assertThat(Files.readString(lower.resolve("etc/passwd"))).isEqualTo(passwdBefore);
        assertThat(lower.resolve("etc/group")).exists();
        assertThat(lower.resolve("root/file")).doesNotExist();
        assertThat(Files.readString(b.target().resolve("etc/passwd"))).isEqualTo(passwdBefore);
        assertThat(b.target().resolve("etc/group")).exists();
        assertThat(SnapshotFixture.isWhiteout(a.upperDir().resolve("etc/group"))).isTrue();
        assertThat(SnapshotFixture.opaque(a.upperDir().resolve("home"))).isEqualTo("y");
    }

    @Test
    void theExportedDiffIsInDockerLayerFormatAndRecreatesTheSameView() throws Exception {
        Layer busybox = TestImages.busybox();
        String chain = snap.unpack(null, busybox.diffId(), busybox.open());
        RootfsMount m = snap.prepare(fx.container("committer"), chain);
        snap.mount(m);
        run("chroot", m.target().toString(), "/bin/sh", "-c",
                "echo changed > /etc/passwd && rm /etc/group && mkdir -p /srv/app && echo hi > /srv/app/f"
                        + " && ln /srv/app/f /srv/app/g && chown 12:34 /srv/app/f && chmod 4750 /srv/app/f"
                        + " && mkfifo /srv/app/p && ln -s ../app /srv/app/l && rm -rf /home && mkdir /home");

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        snap.exportDiff("committer", out);
        byte[] tar = out.toByteArray();

        Map<String, TarArchiveEntry> entries = new LinkedHashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                entries.put(e.getName(), e);
            }
        }
        assertThat(entries).containsKeys("etc/", "etc/passwd", "etc/.wh.group", "srv/", "srv/app/", "srv/app/f",
                "srv/app/g", "srv/app/p", "srv/app/l", "home/", "home/.wh..wh..opq");
        assertThat(entries.keySet()).noneMatch(n -> n.startsWith("bin/"));
        assertThat(entries.get("etc/.wh.group").getSize()).isZero();
        assertThat(entries.get("srv/app/f").getMode()).isEqualTo(04750);
        assertThat(entries.get("srv/app/f").getLongUserId()).isEqualTo(12);
        assertThat(entries.get("srv/app/f").getLongGroupId()).isEqualTo(34);
        assertThat(entries.get("srv/app/g").isLink()).isTrue();
        assertThat(entries.get("srv/app/g").getLinkName()).isEqualTo("srv/app/f");
        assertThat(entries.get("srv/app/p").isFIFO()).isTrue();
        assertThat(entries.get("srv/app/l").getLinkName()).isEqualTo("../app");

        // the diff applied as a layer on top of the image gives the container's view
        String committed = snap.unpack(chain, TestImages.sha256(tar), new ByteArrayInputStream(tar));
        RootfsMount again = snap.prepare(fx.container("from-commit"), committed);
        snap.mount(again);
        Path r = again.target();
        assertThat(Files.readString(r.resolve("etc/passwd"))).isEqualTo("changed\n");
        assertThat(r.resolve("etc/group")).doesNotExist();
        assertThat(Files.readString(r.resolve("srv/app/g"))).isEqualTo("hi\n");
        assertThat(SnapshotFixture.mode(r.resolve("srv/app/f"))).isEqualTo(0104750);
        assertThat(list(r.resolve("home"))).isEmpty();
        assertThat(run("chroot", r.toString(), "/bin/busybox", "cat", "/srv/app/l/f")).isEqualTo("hi\n");
    }

    @Test
    void aHundredAndTwentyLayersMountDespiteTheMountDataLimit() throws Exception {
        int n = 120;
        String chain = null;
        for (int i = 0; i < n; i++) {
            Layer l = TestImages.layer()
                    .file("f" + i, "layer " + i, 0644)
                    .file("shared", "from layer " + i, 0644)
                    .build();
            chain = snap.unpack(chain, l.diffId(), l.open());
        }
        RootfsMount m = snap.prepare(fx.container("deep"), chain);
        String absoluteLowers = String.join(":", m.lowerDirs().stream().map(Path::toString).toList());
        assertThat(absoluteLowers.length()).as("the absolute paths alone exceed one page").isGreaterThan(4096);

        snap.mount(m);

        // mounted with short relative lower dirs from the snapshotter's own working directory
        assertThat(SnapshotFixture.superOptions(m.target())).contains("lowerdir=l/");
        Path r = m.target();
        assertThat(m.lowerDirs()).hasSize(n);
        for (int i = 0; i < n; i++) {
            assertThat(Files.readString(r.resolve("f" + i))).isEqualTo("layer " + i);
        }
        assertThat(Files.readString(r.resolve("shared"))).isEqualTo("from layer " + (n - 1));
        snap.remove("deep");
        assertThat(fx.mountsBelowBase()).isEmpty();
    }

    @Test
    void anImageWithoutLayersIsJustTheUpperDir() throws Exception {
        RootfsMount m = snap.prepare(fx.container("scratch"), null);
        snap.mount(m);
        assertThat(m.lowerDirs()).isEmpty();
        assertThat(fx.mountsBelowBase()).containsExactly(m.target().toString());
        Files.writeString(m.target().resolve("hello"), "from scratch");

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        snap.exportDiff("scratch", out);
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(out.toByteArray()))) {
            TarArchiveEntry e = in.getNextEntry();
            assertThat(e.getName()).isEqualTo("hello");
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("from scratch");
            assertThat(in.getNextEntry()).isNull();
        }
        snap.remove("scratch");
        assertNoTraceOf("scratch", m);
    }

    @Test
    void removeDetachesARootfsThatAProcessStillUses() throws Exception {
        Layer busybox = TestImages.busybox();
        String chain = snap.unpack(null, busybox.diffId(), busybox.open());
        RootfsMount m = snap.prepare(fx.container("busy"), chain);
        snap.mount(m);
        Process sleeper = new ProcessBuilder("chroot", m.target().toString(), "/bin/sleep", "600")
                .redirectErrorStream(true).start();
        try {
            // the process's root and cwd are in the mount: a plain umount gets EBUSY
            Path cwd = Path.of("/proc", Long.toString(sleeper.pid()), "root");
            org.awaitility.Awaitility.await().atMost(10, TimeUnit.SECONDS)
                    .until(() -> Files.readSymbolicLink(cwd).equals(m.target()));

            snap.remove("busy");

            assertNoTraceOf("busy", m);
            assertThat(sleeper.isAlive()).isTrue();
        } finally {
            sleeper.destroyForcibly();
            sleeper.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aMissingChainOrABadContainerIdIsRefusedAndLeavesNothing() throws Exception {
        String missing = "sha256:" + "2".repeat(64);
        assertThatThrownBy(() -> snap.prepare("c3", missing))
                .isInstanceOf(LayerException.class)
                .hasMessage("layer chain " + missing + " is not unpacked on this node");
        assertThat(fx.list("snapshots")).isEmpty();
        assertThatThrownBy(() -> snap.prepare("../escape", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid container id");
        assertThat(fx.list("snapshots")).isEmpty();
        snap.remove("never-created"); // no error when already gone

        Layer layer = TestImages.layer().file("a", "a", 0644).build();
        String chain = snap.unpack(null, layer.diffId(), layer.open());
        snap.prepare(fx.container("c4"), chain);
        assertThat(snap.prepare("c4", chain).lowerDirs()).hasSize(1); // same again: fine
        assertThatThrownBy(() -> snap.prepare("c4", null))
                .isInstanceOf(LayerException.class)
                .hasMessage("container c4 already has a snapshot on layer chain " + chain);
    }

    @Test
    void aChainIsRemovedOnlyWhenNothingStandsOnIt() throws Exception {
        Layer base = TestImages.layer().file("a", "a", 0644).build();
        Layer top = TestImages.layer().file("b", "b", 0644).build();
        String c0 = snap.unpack(null, base.diffId(), base.open());
        String c1 = snap.unpack(c0, top.diffId(), top.open());
        RootfsMount m = snap.prepare(fx.container("user"), c1);
        snap.mount(m);

        assertThatThrownBy(() -> snap.removeChain(c1))
                .isInstanceOf(LayerException.class)
                .hasMessage("layer chain " + c1 + " is in use by container user");
        assertThatThrownBy(() -> snap.removeChain(c0))
                .isInstanceOf(LayerException.class)
                .hasMessage("layer chain " + c0 + " is in use by layer chain " + c1);
        assertThat(Files.readString(m.target().resolve("a"))).isEqualTo("a");

        snap.remove("user");
        snap.removeChain(c1);
        assertThat(snap.has(c1)).isFalse();
        assertThat(snap.has(c0)).isTrue();
        assertThat(fx.list("l")).hasSize(1);
        snap.removeChain(c0);
        snap.removeChain(c0); // already gone: no error

        assertThat(fx.list("layers")).isEmpty();
        assertThat(fx.list("l")).isEmpty();
        assertThat(fx.list("snapshots")).isEmpty();
    }

    private void assertNoTraceOf(String id, RootfsMount m) throws IOException {
        assertThat(fx.mountsBelowBase()).isEmpty();
        assertThat(m.target()).doesNotExist();
        assertThat(m.upperDir()).doesNotExist();
        assertThat(m.workDir()).doesNotExist();
        assertThat(fx.root.resolve("snapshots").resolve(id)).doesNotExist();
        assertThat(fx.runRoot.resolve("containers").resolve(id)).doesNotExist();
    }

    private static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + " did not finish");
        }
        assertThat(p.exitValue()).as(String.join(" ", cmd) + " -> " + out).isZero();
        return out;
    }
}
