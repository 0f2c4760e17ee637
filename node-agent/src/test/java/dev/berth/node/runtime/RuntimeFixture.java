package dev.berth.node.runtime;

import dev.berth.node.cgroup.CgroupManager;
import dev.berth.node.network.NodeNetwork;
import dev.berth.node.snapshot.Snapshotter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A runtime over temporary roots (short paths under /tmp, for the attach socket) and busybox root filesystems made
 * from the host's static busybox. {@link #close()} removes every container, checks nothing of them stays (mounts,
 * processes, directories) and deletes the roots.
 */
final class RuntimeFixture implements AutoCloseable {
    static final Path SHIM = Path.of(System.getProperty("berth.shim.path", "target/native/berth-shim"));
    static final String PASSWD = "root:x:0:0:root:/root:/bin/sh\n"
            + "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
            + "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
    static final String GROUP = "root:x:0:\nalice:x:1000:\nstaff:x:50:alice\naudio:x:29:bob,alice\nnogroup:x:65534:\n";

    final Path root;
    final Path stateRoot;
    final Path runRoot;
    final ShimRuntime runtime;
    private static List<String> applets;

    RuntimeFixture() throws IOException {
        this(newRoot(), null, null, null);
    }

    static Path newRoot() throws IOException {
        return Files.createTempDirectory(Path.of("/tmp"), "brt");
    }

    /** Over {@code root} (from {@link #newRoot()}), whose lib/ and run/ the given parts may share. */
    RuntimeFixture(Path root, Snapshotter snapshotter, CgroupManager cgroups, NodeNetwork network) throws IOException {
        this.root = root;
        stateRoot = root.resolve("lib");
        runRoot = root.resolve("run");
        runtime = new ShimRuntime(new ShimRuntime.Config(stateRoot, runRoot, SHIM), snapshotter, cgroups, network);
    }

    static String newId() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            sb.append(String.format("%016x", ThreadLocalRandom.current().nextLong()));
        }
        return sb.toString();
    }

    /** A fresh busybox rootfs directory: bin/busybox, applet symlinks, etc/passwd and etc/group with test users. */
    Path rootfs() throws IOException {
        Path dir = Files.createTempDirectory(root, "rootfs");
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createDirectories(dir.resolve("bin"));
        Files.createDirectories(dir.resolve("etc"));
        Files.createDirectories(dir.resolve("tmp"));
        dev.berth.node.nativeio.Libc.chmod(dir.resolve("tmp").toString(), 01777);
        Files.copy(Path.of("/bin/busybox"), dir.resolve("bin/busybox"));
        for (String applet : applets()) {
            Path link = dir.resolve(applet);
            Files.createDirectories(link.getParent());
            if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(link, Path.of("/bin/busybox"));
            }
        }
        Files.writeString(dir.resolve("etc/passwd"), PASSWD);
        Files.writeString(dir.resolve("etc/group"), GROUP);
        return dir;
    }

    private static synchronized List<String> applets() throws IOException {
        if (applets == null) {
            Process p = new ProcessBuilder("/bin/busybox", "--list-full").start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            List<String> list = new ArrayList<>();
            for (String l : out.split("\n")) {
                if (!l.isBlank() && !l.trim().equals("bin/busybox")) {
                    list.add(l.trim());
                }
            }
            applets = list;
        }
        return applets;
    }

    /** Creates and starts a container, reads its whole output, waits for the exit. */
    Run run(ContainerSpec spec) throws IOException {
        String id = newId();
        runtime.create(id, spec);
        AttachStream.Output out;
        try (AttachStream s = runtime.startAttached(id)) {
            out = s.readToEnd();
        }
        ContainerState st = runtime.waitForExit(id, Duration.ofSeconds(60));
        assertThat(st.running()).as("container still running").isFalse();
        return new Run(id, st, out.stdout(), out.stderr());
    }

    record Run(String id, ContainerState state, String stdout, String stderr) {
        int exitCode() {
            return state.exitCode();
        }
    }

    ContainerSpec.Builder sh(Path rootfs, String script) {
        return ContainerSpec.builder().rootfs(rootfs).cmd("/bin/sh", "-c", script);
    }

    /** Lines of /proc/self/mountinfo that mention this fixture's root. */
    List<String> mountsUnderRoot() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(l -> l.contains(root.toString())).toList();
    }

    /** PIDs of processes whose command line or working directory is under this fixture's root (shims, containers). */
    List<Integer> processesUnderRoot() throws IOException {
        List<Integer> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                    String stat = Files.readString(p.resolve("stat"));
                    boolean zombie = stat.charAt(stat.lastIndexOf(')') + 2) == 'Z';
                    String cwd = "";
                    try {
                        cwd = Files.readSymbolicLink(p.resolve("cwd")).toString();
                    } catch (IOException e) {
                        // kernel thread or gone
                    }
                    if (!zombie && (cmd.contains(root.toString()) || cwd.startsWith(root.toString()))) {
                        out.add(Integer.parseInt(name));
                    }
                } catch (IOException e) {
                    // exited meanwhile
                }
            }
        }
        return out;
    }

    /** Asserts that no container leaves anything: no mount, no process, no container or exec directory. */
    void assertNothingLeft() throws IOException {
        assertThat(mountsUnderRoot()).as("mounts left").isEmpty();
        assertThat(processesUnderRoot()).as("processes left").isEmpty();
        assertThat(listDir(stateRoot.resolve("containers"))).as("state dirs left").isEmpty();
        assertThat(listDir(runRoot.resolve("tasks"))).as("run dirs left").isEmpty();
        assertThat(listDir(runRoot.resolve("execs"))).as("exec dirs left").isEmpty();
    }

    static List<Path> listDir(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    @Override
    public void close() throws IOException {
        try {
            for (ContainerState st : runtime.list()) {
                runtime.remove(st.id(), true);
            }
            runtime.close();
            assertNothingLeft();
        } finally {
            // Last resort for a failed test: kill what is left by PID, then delete the roots.
            for (int pid : processesUnderRoot()) {
                try {
                    dev.berth.node.nativeio.Libc.kill(pid, 9);
                } catch (IOException e) {
                    // already gone
                }
            }
            for (String m : mountsUnderRoot()) {
                String target = m.split(" ")[4];
                try {
                    dev.berth.node.nativeio.Libc.umount2(target, dev.berth.node.nativeio.Libc.MNT_DETACH);
                } catch (IOException e) {
                    // already gone
                }
            }
            try (Stream<Path> walk = Files.walk(root)) {
                for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
