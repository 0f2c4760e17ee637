package dev.berth.image.interop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private Docker daemon (Debian's docker.io) to compare Berth with: its own data root, exec root, pidfile and unix
 * socket under a temporary directory, no iptables rules, no IP forwarding and no bridge at all ({@code --bridge=none}:
 * nothing it makes can collide with Berth's 172.17.0.0/16 or with another daemon's docker0; its containers run with
 * {@code --network none}). The docker CLI talks to it with {@code -H}.
 *
 * <p>{@link #close()} stops it by its PID (TERM, then KILL), stops the containerd it started by the PID that containerd
 * recorded (after checking it is the one under this daemon's exec root), unmounts what is left under its roots and
 * deletes the directory. It never signals a process it did not start.
 *
 * <p>A comparison peer for tests only, never a Berth dependency. When dockerd or the docker CLI is not installed,
 * {@link #start()} fails with a message saying what to install.
 */
final class Dockerd implements AutoCloseable {

    static final Path DOCKERD = Path.of("/usr/sbin/dockerd");

    private final Path root;
    private final Process process;
    private final String docker;

    private Dockerd(Path root, Process process, String docker) {
        this.root = root;
        this.process = process;
        this.docker = docker;
    }

    /** Starts a daemon and waits until it answers. */
    static Dockerd start() throws IOException, InterruptedException {
        if (!Files.isExecutable(DOCKERD)) {
            throw new IllegalStateException(DOCKERD + " is missing: these tests compare Berth with a real dockerd;"
                    + " install Debian's docker.io (./berth test installs it, without starting a system daemon)");
        }
        String docker = cli();
        Path root = Files.createTempDirectory(Path.of("/var/tmp"), "berth-dockerd-");
        Files.createDirectories(root.resolve("data"));
        Files.createDirectories(root.resolve("exec"));
        Process process = new ProcessBuilder(DOCKERD.toString(),
                "--data-root", root.resolve("data").toString(),
                "--exec-root", root.resolve("exec").toString(),
                "--pidfile", root.resolve("docker.pid").toString(),
                "-H", "unix://" + root.resolve("docker.sock"),
                "--iptables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none",
                "--log-level", "warn")
                .redirectErrorStream(true)
                .redirectOutput(root.resolve("dockerd.log").toFile())
                .start();
        Dockerd d = new Dockerd(root, process, docker);
        try {
            // startup takes a second or two; this only bounds a daemon that never comes up
            for (int i = 0; i < 600; i++) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("dockerd exited with " + process.exitValue() + ":\n" + d.log());
                }
                if (d.tryDocker(List.of("version", "--format", "{{.Server.Version}}")).exitCode() == 0) {
                    return d;
                }
                Thread.sleep(100);
            }
            throw new IllegalStateException("dockerd did not answer on " + root.resolve("docker.sock") + ":\n"
                    + d.log());
        } catch (RuntimeException | InterruptedException e) {
            d.close();
            throw e;
        }
    }

    private static String cli() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir, "docker");
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        throw new IllegalStateException("the docker CLI is not on PATH: install Debian's docker.io");
    }

    Path root() {
        return root;
    }

    String host() {
        return "unix://" + root.resolve("docker.sock");
    }

    record Result(int exitCode, String out, String err) {
    }

    /** Runs the docker CLI against this daemon; a non-zero exit fails with what the CLI printed. */
    String docker(String... args) {
        Result r = tryDocker(List.of(args));
        if (r.exitCode() != 0) {
            throw new IllegalStateException("docker " + String.join(" ", args) + " exited with " + r.exitCode()
                    + ":\n" + r.out() + r.err());
        }
        return r.out();
    }

    Result tryDocker(List<String> args) {
        List<String> command = new ArrayList<>(List.of(docker, "-H", host()));
        command.addAll(args);
        try {
            Path out = Files.createTempFile(root, "cli", ".out");
            Path err = Files.createTempFile(root, "cli", ".err");
            try {
                ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
                pb.environment().put("DOCKER_BUILDKIT", "0");
                pb.environment().put("DOCKER_CONFIG", root.resolve("cli-config").toString());
                pb.environment().remove("DOCKER_HOST");
                Process p = pb.start();
                int code = p.waitFor();
                return new Result(code, Files.readString(out), Files.readString(err));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String log() {
        try {
            List<String> lines = Files.readAllLines(root.resolve("dockerd.log"), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        Long containerd = containerdPid();
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        // dockerd stops the containerd it started; make sure, by the PID containerd recorded under our exec root
        if (containerd != null) {
            ProcessHandle.of(containerd).filter(this::ours).ifPresent(h -> {
                h.destroy();
                try {
                    h.onExit().get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    h.destroyForcibly();
                }
            });
        }
        unmountUnderRoot();
        deleteTree(root);
    }

    private Long containerdPid() {
        try {
            Path pidfile = root.resolve("exec/containerd/containerd.pid");
            return Files.exists(pidfile) ? Long.parseLong(Files.readString(pidfile).trim()) : null;
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    /** A containerd of this daemon names our exec root on its command line (its socket and state live there). */
    private boolean ours(ProcessHandle h) {
        try {
            String cmdline = Files.readString(Path.of("/proc", Long.toString(h.pid()), "cmdline"))
                    .replace('\0', ' ');
            return cmdline.contains("containerd") && cmdline.contains(root.toString());
        } catch (IOException e) {
            return false;
        }
    }

    private void unmountUnderRoot() {
        List<String> mounts = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                String point = f[4].replace("\\040", " ");
                if (point.startsWith(root.toString() + "/")) {
                    mounts.add(point);
                }
            }
        } catch (IOException e) {
            return;
        }
        mounts.sort(Comparator.reverseOrder());
        for (String m : mounts) {
            try {
                new ProcessBuilder("umount", "-l", m).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
            } catch (IOException e) {
                // the tree removal below reports what stays
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // a file still busy: left for the operator, the directory name says whose it is
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // as above
        }
    }
}
