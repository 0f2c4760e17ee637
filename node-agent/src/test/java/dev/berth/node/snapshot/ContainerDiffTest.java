package dev.berth.node.snapshot;

import dev.berth.node.TestImages;
import dev.berth.node.TestImages.Layer;
import dev.berth.node.nativeio.Libc;
import dev.berth.node.snapshot.Snapshotter.Change;
import dev.berth.node.snapshot.Snapshotter.ChangeKind;
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
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A container's writable layer as a layer tar (what a build's RUN step commits) and as {@code docker diff}: real
 * overlay mounts, changes made by a shell chrooted into them.
 */
class ContainerDiffTest {
    private static final long FIXED_MTIME = 1_600_000_000L;

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

    /** busybox plus a layer with things to change, delete and replace. */
    private String image() throws IOException {
        Layer busybox = TestImages.busybox();
        String chain = snap.unpack(null, busybox.diffId(), busybox.open());
        Layer app = TestImages.layer()
                .dir("srv", 0755)
                .file("srv/a", "a\n", 0644)
                .file("srv/b", "b\n", 0644)
                .file("srv/c", "c\n", 0644)
                .file("srv/h1", "linked\n", 0644)
                .hardlink("srv/h2", "srv/h1")
                .dir("opt", 0755)
                .dir("opt/data", 0750)
                .file("opt/data/old1", "1", 0644)
                .dir("opt/data/sub", 0755)
                .file("opt/data/sub/old2", "2", 0644)
                .dir("etc", 0755)
                .file("etc/motd", "hello\n", 0644)
                .build();
        return snap.unpack(chain, app.diffId(), app.open());
    }

    @Test
    void theDiffUnpackedOnTheImageGivesTheContainersView() throws Exception {
        String image = image();
        RootfsMount c = snap.prepare(fx.container("worker"), image);
        snap.mount(c);
        chroot(c, "echo new > /srv/new && mkdir -p /var/lib/app && echo state > /var/lib/app/state"
                + " && ln /var/lib/app/state /var/lib/app/state2 && ln -s ../app/state /var/lib/app/link"
                + " && mknod /srv/null c 1 3 && mknod /srv/loop b 7 0 && mkfifo /srv/fifo"
                + " && echo more >> /etc/motd && chmod 0600 /srv/a && chown 5:6 /srv/b"
                + " && rm /etc/group /srv/c"
                + " && rm -rf /opt/data && mkdir -m 0700 /opt/data && echo fresh > /opt/data/only"
                + " && rm -rf /home && echo now-a-file > /home"
                + " && echo gone > /srv/scratch && rm /srv/scratch"
                + " && mkdir -p /tmp/t/u && touch /tmp/t/u/v && rm -rf /tmp/t");
        Libc.lsetxattr(c.target().resolve("srv/new").toString(), "user.note", new byte[]{1, 0, (byte) 0xfe});

        byte[] tar = export("worker");
        List<String> names = entryNames(tar);
        assertThat(names).contains("etc/.wh.group", "srv/.wh.c", "opt/data/", "opt/data/.wh..wh..opq", "opt/data/only",
                "home", "srv/new", "var/lib/app/state2");
        // deleted where it was made: overlay leaves nothing, and neither does the diff
        assertThat(names).noneMatch(n -> n.contains("scratch") || n.startsWith("tmp/t") || n.startsWith("tmp/.wh.t"));
        assertThat(names).noneMatch(n -> n.startsWith("bin/"));

        String committed = snap.unpack(image, TestImages.sha256(tar), new ByteArrayInputStream(tar));
        RootfsMount again = snap.prepare(fx.container("from-diff"), committed);
        snap.mount(again);

        Map<String, String> expected = tree(c.target());
        assertThat(expected).containsKeys("/srv/new", "/srv/null", "/opt/data/only", "/home").doesNotContainKeys(
                "/etc/group", "/srv/c", "/opt/data/old1", "/srv/scratch", "/tmp/t");
        assertThat(tree(again.target())).containsExactlyEntriesOf(expected);
    }

    @Test
    void identicalChangesGiveByteIdenticalDiffsWhateverTheOrderTheyWereMadeIn() throws Exception {
        String image = image();
        RootfsMount one = snap.prepare(fx.container("one"), image);
        RootfsMount two = snap.prepare(fx.container("two"), image);
        snap.mount(one);
        snap.mount(two);
        chroot(one, "mkdir /srv/z /srv/y && echo 1 > /srv/z/b && echo 2 > /srv/z/a && echo 3 > /srv/y/x"
                + " && ln /srv/z/a /srv/y/link && rm /srv/c /etc/group && rm -rf /opt/data && mkdir /opt/data"
                + " && echo m >> /etc/motd");
        chroot(two, "echo m >> /etc/motd && rm -rf /opt/data && rm /etc/group && mkdir /opt/data && rm /srv/c"
                + " && mkdir /srv/y && echo 3 > /srv/y/x && mkdir /srv/z && echo 2 > /srv/z/a && echo 1 > /srv/z/b"
                + " && ln /srv/z/a /srv/y/link");
        // the times the changes were made at are part of the layer; pin them so that only content and order count
        pinTimes(one);
        pinTimes(two);

        byte[] a = export("one");
        byte[] b = export("two");

        assertThat(b).isEqualTo(a);
        assertThat(TestImages.sha256(b)).isEqualTo(TestImages.sha256(a));
        assertThat(entryNames(a)).containsExactly("etc/", "etc/.wh.group", "etc/motd", "opt/", "opt/data/",
                "opt/data/.wh..wh..opq", "srv/", "srv/.wh.c", "srv/y/", "srv/y/link", "srv/y/x", "srv/z/", "srv/z/a",
                "srv/z/b");
        // the first name met in the walk holds the data, the later one links to it
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(a))) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                if (e.getName().equals("srv/y/link")) {
                    assertThat(e.getSize()).isEqualTo(2);
                    assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("2\n");
                }
                if (e.getName().equals("srv/z/a")) {
                    assertThat(e.isLink()).isTrue();
                    assertThat(e.getLinkName()).isEqualTo("srv/y/link");
                }
                assertThat(e.getModTime().getTime() / 1000).as(e.getName())
                        .isEqualTo(e.getName().contains(".wh.") ? 0 : FIXED_MTIME);
            }
        }
        // and exporting again changes nothing (no access time, no state of the walk)
        assertThat(export("one")).isEqualTo(a);
    }

    @Test
    void changesAreListedLikeDockerDiff() throws Exception {
        Layer base = TestImages.layer()
                .dir("a", 0755).file("a/keep", "k", 0644).file("a/gone", "g", 0644)
                .dir("d", 0755).file("d/old", "o", 0644)
                .file("f", "f\n", 0644)
                .file("w", "w", 0644)
                .dir("x", 0755).dir("x/y", 0755).file("x/y/deep", "d", 0644)
                .build();
        Layer top = TestImages.layer().whiteout("w").build();
        String chain = snap.unpack(snap.unpack(null, base.diffId(), base.open()), top.diffId(), top.open());
        RootfsMount m = snap.prepare(fx.container("differ"), chain);
        snap.mount(m);
        Path r = m.target();
        Files.writeString(r.resolve("a/new"), "n");
        Files.delete(r.resolve("a/gone"));
        Files.writeString(r.resolve("f"), "more", java.nio.file.StandardOpenOption.APPEND);
        FileTrees.deleteRecursively(r.resolve("d"));
        Files.createDirectory(r.resolve("d"));
        Files.writeString(r.resolve("d/old"), "again"); // the image had it, but the container's /d hides the image's
        Files.writeString(r.resolve("w"), "back");       // a layer of the image deleted it: new to the container
        Files.writeString(r.resolve("x/y/deep"), "changed");
        Files.writeString(r.resolve("tmpfile"), "t");
        Files.delete(r.resolve("tmpfile"));

        List<Change> changes = snap.changes("differ");

        assertThat(changes).containsExactly(
                new Change("/a", ChangeKind.MODIFY),
                new Change("/a/gone", ChangeKind.DELETE),
                new Change("/a/new", ChangeKind.ADD),
                new Change("/d", ChangeKind.DELETE),
                new Change("/d/old", ChangeKind.ADD),
                new Change("/f", ChangeKind.MODIFY),
                new Change("/w", ChangeKind.ADD),
                new Change("/x/y/deep", ChangeKind.MODIFY));
        assertThat(ChangeKind.MODIFY.code()).isZero();
        assertThat(ChangeKind.ADD.code()).isEqualTo(1);
        assertThat(ChangeKind.DELETE.code()).isEqualTo(2);
    }

    @Test
    void aContainerOnAnEmptyRootfsOnlyAdds() throws Exception {
        RootfsMount m = snap.prepare(fx.container("scratchy"), null);
        snap.mount(m);
        Files.createDirectories(m.target().resolve("app/bin"));
        Files.writeString(m.target().resolve("app/bin/run"), "#!/bin/sh\n");

        assertThat(snap.changes("scratchy")).containsExactly(new Change("/app", ChangeKind.ADD),
                new Change("/app/bin", ChangeKind.ADD), new Change("/app/bin/run", ChangeKind.ADD));
        assertThat(entryNames(export("scratchy"))).containsExactly("app/", "app/bin/", "app/bin/run");
    }

    @Test
    void theRuntimesMountPointsAreNotPartOfTheDiff() throws Exception {
        String image = image();
        RootfsMount m = snap.prepare(fx.container("mounted"), image);
        snap.mount(m);
        Path r = m.target();
        // as the runtime makes them before it binds its own files over them
        for (String f : List.of("etc/hosts", "etc/hostname", "etc/resolv.conf")) {
            Files.newOutputStream(r.resolve(f), java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.WRITE).close();
        }
        // opening the image's own file for writing copies it up unchanged
        Files.newOutputStream(r.resolve("etc/motd"), java.nio.file.StandardOpenOption.WRITE,
                java.nio.file.StandardOpenOption.APPEND).close();

        assertThat(entryNames(export("mounted"))).containsExactly("etc/", "etc/motd");
        assertThat(snap.changes("mounted")).containsExactly(new Change("/etc/motd", ChangeKind.MODIFY));

        Files.delete(r.resolve("etc/motd"));
        assertThat(entryNames(export("mounted"))).containsExactly("etc/", "etc/.wh.motd");

        // on an empty rootfs the runtime makes /etc and the top directories too: none of it is the container's
        RootfsMount s = snap.prepare(fx.container("mounted-scratch"), null);
        snap.mount(s);
        for (String d : List.of("proc", "sys", "dev", "etc")) {
            Files.createDirectory(s.target().resolve(d));
        }
        Files.writeString(s.target().resolve("etc/hosts"), "");
        assertThat(entryNames(export("mounted-scratch"))).isEmpty();
        assertThat(snap.changes("mounted-scratch")).isEmpty();
        // but a change of its own to that /etc is
        Libc.chmod(s.target().resolve("etc").toString(), 0700);
        assertThat(entryNames(export("mounted-scratch"))).containsExactly("etc/");
        assertThat(snap.changes("mounted-scratch")).containsExactly(new Change("/etc", ChangeKind.ADD));
    }

    @Test
    void aContainerWithoutSnapshotIsNotFound() {
        assertThatThrownBy(() -> snap.exportDiff("nobody", new ByteArrayOutputStream()))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining("container nobody has no snapshot");
        assertThatThrownBy(() -> snap.changes("nobody"))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining("container nobody has no snapshot");
        assertThatThrownBy(() -> snap.changes("../escape")).isInstanceOf(IllegalArgumentException.class);
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private byte[] export(String id) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        snap.exportDiff(id, out);
        return out.toByteArray();
    }

    private static List<String> entryNames(byte[] tar) throws IOException {
        List<String> names = new ArrayList<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                names.add(e.getName());
            }
        }
        return names;
    }

    /**
     * Everything a process in the container sees of each path below the root: type, mode, owner, link count, size,
     * content digest, link target, device numbers, xattrs (overlay's own excepted) and mtime in whole seconds (what a
     * layer keeps). The root itself is the snapshot's, never a layer's, and is left out.
     */
    private static Map<String, String> tree(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(p -> !p.equals(root)).toList()) {
                Map<String, Object> a = SnapshotFixture.stat(p);
                int mode = (Integer) a.get("mode");
                int type = mode & 0170000;
                StringBuilder d = new StringBuilder();
                d.append(String.format("mode=%o uid=%s gid=%s mtime=%d", mode, a.get("uid"), a.get("gid"),
                        ((java.nio.file.attribute.FileTime) a.get("lastModifiedTime")).toMillis() / 1000));
                switch (type) {
                    case 0100000 -> d.append(" nlink=").append(a.get("nlink")).append(" sha256=")
                            .append(HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                                    .digest(Files.readAllBytes(p))));
                    case 0120000 -> d.append(" -> ").append(Files.readSymbolicLink(p));
                    case 0020000, 0060000 -> d.append(" rdev=").append(a.get("rdev"));
                    default -> {
                    }
                }
                for (String x : Libc.llistxattr(p.toString()).stream().sorted().toList()) {
                    if (!x.startsWith("trusted.overlay.")) {
                        d.append(' ').append(x).append('=').append(HexFormat.of().formatHex(Libc.lgetxattr(p.toString(), x)));
                    }
                }
                out.put("/" + root.relativize(p), d.toString());
            }
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    /** Sets the mtime of everything the container changed (as seen through its mount), contents before their dirs. */
    private static void pinTimes(RootfsMount m) throws IOException {
        List<Path> changed;
        try (Stream<Path> walk = Files.walk(m.upperDir())) {
            changed = walk.filter(p -> !p.equals(m.upperDir())).sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : changed) {
            if (SnapshotFixture.isWhiteout(p)) {
                continue; // not visible through the mount
            }
            Path merged = m.target().resolve(m.upperDir().relativize(p).toString());
            Libc.lutimes(merged.toString(), FIXED_MTIME, 0, FIXED_MTIME, 0);
        }
    }

    private static void chroot(RootfsMount m, String script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("chroot", m.target().toString(), "/bin/sh", "-c", script)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(script + " did not finish");
        }
        assertThat(p.exitValue()).as(script + " -> " + out).isZero();
    }
}
