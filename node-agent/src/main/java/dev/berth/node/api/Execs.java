package dev.berth.node.api;

import dev.berth.node.nativeio.Libc;
import dev.berth.node.runtime.ExecProcess;
import dev.berth.node.runtime.ExecSpec;
import dev.berth.node.runtime.RuntimeFailure;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Exec instances of this node ({@code docker exec}): created by {@code POST /containers/{id}/exec}, started once,
 * inspected until their container is removed. Kept in memory: an exec does not survive an agent restart (Docker
 * forgets them at daemon restart too).
 */
final class Execs {
    /** One exec: its configuration and, once started, its process and exit code. */
    static final class Exec {
        final String id;
        final String containerId;
        final ExecSpec spec;
        final boolean attachStdout;
        final boolean attachStderr;
        volatile ExecProcess process;
        volatile boolean running;
        volatile Integer exitCode;
        volatile boolean started;

        Exec(String id, String containerId, ExecSpec spec, boolean attachStdout, boolean attachStderr) {
            this.id = id;
            this.containerId = containerId;
            this.spec = spec;
            this.attachStdout = attachStdout;
            this.attachStderr = attachStderr;
        }

        /** {@code GET /exec/{id}/json}. */
        Map<String, Object> inspect() {
            Map<String, Object> pc = new LinkedHashMap<>();
            pc.put("tty", spec.tty());
            pc.put("entrypoint", spec.cmd().isEmpty() ? "" : spec.cmd().get(0));
            pc.put("arguments", spec.cmd().size() > 1 ? spec.cmd().subList(1, spec.cmd().size()) : java.util.List.of());
            pc.put("privileged", spec.privileged());
            pc.put("user", spec.user() == null ? "" : spec.user());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ID", id);
            m.put("Running", running);
            m.put("ExitCode", exitCode);
            m.put("ProcessConfig", pc);
            m.put("OpenStdin", spec.attachStdin());
            m.put("OpenStderr", attachStderr);
            m.put("OpenStdout", attachStdout);
            m.put("CanRemove", false);
            m.put("ContainerID", containerId);
            m.put("DetachKeys", "");
            ExecProcess p = process;
            m.put("Pid", p != null && running ? p.pid() : 0);
            return m;
        }
    }

    private final Map<String, Exec> execs = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final Path runRoot;

    Execs(Path runRoot) {
        this.runRoot = runRoot;
    }

    Exec create(String containerId, ExecSpec spec, boolean stdout, boolean stderr) {
        byte[] b = new byte[32];
        random.nextBytes(b);
        Exec e = new Exec(HexFormat.of().formatHex(b), containerId, spec, stdout, stderr);
        execs.put(e.id, e);
        return e;
    }

    Exec get(String id) throws RuntimeFailure {
        Exec e = id == null ? null : execs.get(id);
        if (e == null) {
            throw RuntimeFailure.notFound("No such exec instance: " + id);
        }
        return e;
    }

    /** Forgets the execs of containers that no longer exist on this node. */
    void prune(java.util.function.Predicate<String> containerExists) {
        execs.values().removeIf(e -> !e.running && !containerExists.test(e.containerId));
    }

    /**
     * Resizes an exec's TTY: the shim rereads {@code winsize} in the exec's bundle on SIGWINCH (the same protocol the
     * runtime uses for a container's TTY, docs/node/runtime.md).
     */
    void resize(Exec e, int rows, int cols) throws IOException {
        ExecProcess p = e.process;
        if (p == null || !e.running) {
            throw RuntimeFailure.conflict("Exec " + e.id + " is not running");
        }
        if (!e.spec.tty()) {
            throw RuntimeFailure.badRequest("Exec " + e.id + " has no TTY to resize");
        }
        Path dir = runRoot.resolve("execs").resolve(p.id());
        Path tmp = dir.resolve("winsize.tmp");
        Files.writeString(tmp, rows + " " + cols + "\n", StandardCharsets.US_ASCII);
        Files.move(tmp, dir.resolve("winsize"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        int shimPid = Integer.parseInt(Files.readString(dir.resolve("shim.pid")).trim());
        Libc.kill(shimPid, 28 /* SIGWINCH */);
    }
}
