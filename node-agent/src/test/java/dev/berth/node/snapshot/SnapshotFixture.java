package dev.berth.node.snapshot;

import dev.berth.node.nativeio.Libc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** A snapshotter on temporary roots, and the checks that nothing of it stays behind. */
final class SnapshotFixture implements AutoCloseable {
    final Path base;
    final Path root;
    final Path runRoot;
    final OverlaySnapshotter snapshotter;
    private final List<String> containers = new ArrayList<>();

    SnapshotFixture() throws IOException {
        base = Files.createTempDirectory(Path.of("/tmp"), "berth-snap-").toRealPath();
        root = base.resolve("lib");
        runRoot = base.resolve("run");
        snapshotter = new OverlaySnapshotter(root, runRoot);
    }

    /** Remembers a container so that {@link #close} removes it even when the test failed half-way. */
    String container(String id) {
        containers.add(id);
        return id;
    }

    /** Mount points at or below the fixture's base directory. */
    List<String> mountsBelowBase() throws IOException {
        return FileTrees.mountPoints().stream().filter(p -> p.startsWith(base.toString())).toList();
    }

    /** The superblock options of the mount at {@code target} (the last field of its mountinfo line). */
    static String superOptions(Path target) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f.length > 4 && FileTrees.unescape(f[4]).equals(target.toString())) {
                return f[f.length - 1];
            }
        }
        throw new AssertionError(target + " is not mounted");
    }

    /** Entries of a directory of the store ("layers", "l", "snapshots"). */
    List<String> list(String dir) throws IOException {
        try (Stream<Path> s = Files.list(root.resolve(dir))) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    Path diffOf(String chainId) {
        return root.resolve("layers").resolve(chainId.substring(7)).resolve("diff");
    }

    static Map<String, Object> stat(Path p) throws IOException {
        return Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
    }

    static int mode(Path p) throws IOException {
        return (Integer) stat(p).get("mode");
    }

    static boolean isWhiteout(Path p) throws IOException {
        Map<String, Object> a = stat(p);
        return ((Integer) a.get("mode") & 0170000) == 0020000 && (Long) a.get("rdev") == 0L;
    }

    static String opaque(Path dir) throws IOException {
        byte[] v = Libc.lgetxattr(dir.toString(), "trusted.overlay.opaque");
        return v == null ? null : new String(v);
    }

    @Override
    public void close() throws IOException {
        for (String id : containers) {
            snapshotter.remove(id);
        }
        snapshotter.close();
        assertThat(mountsBelowBase()).as("mounts left behind").isEmpty();
        FileTrees.deleteRecursively(base);
    }
}
