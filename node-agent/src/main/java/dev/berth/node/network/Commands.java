package dev.berth.node.network;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs the host's network tools (iproute2, iptables, nsenter) as subprocesses. A failure names the command line,
 * the exit status and what the tool wrote on stderr.
 */
final class Commands {
    private static final long TIMEOUT_SECONDS = 60;
    private static final List<String> SYSTEM_DIRS = List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin",
            "/usr/local/sbin", "/usr/local/bin");

    private Commands() {
    }

    record Result(List<String> command, int exitCode, String stdout, String stderr) {
        boolean ok() {
            return exitCode == 0;
        }

        /** The command line and stderr, for error messages. */
        String describe() {
            String err = stderr.strip();
            return "`" + String.join(" ", command) + "` failed (exit " + exitCode + ")" + (err.isEmpty() ? "" : ": " + err);
        }
    }

    /**
     * The absolute path of a tool: from PATH first, then the standard system directories (an agent started by an
     * init system may lack /usr/sbin in its PATH). Null when it is nowhere.
     */
    static String locate(String name) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        dirs.addAll(SYSTEM_DIRS);
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }

    static String require(String name, String debianPackage) throws IOException {
        String found = locate(name);
        if (found == null) {
            throw new IOException("`" + name + "` not found in PATH or the system directories (install the Debian package "
                    + debianPackage + ")");
        }
        return found;
    }

    /** Runs the command, returning whatever happened (never throws for a non-zero exit). */
    static Result exec(List<String> command, String stdin) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("LC_ALL", "C");
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new IOException("cannot run `" + String.join(" ", command) + "`: " + e.getMessage(), e);
        }
        // stderr is drained on a thread of its own, so neither stream can fill up and stall the tool; not on a shared
        // pool, whose threads may all be busy when the agent is loaded
        CompletableFuture<String> err = new CompletableFuture<>();
        Thread errReader = new Thread(() -> err.complete(drain(process.getErrorStream())), "berth-cmd-stderr");
        errReader.setDaemon(true);
        errReader.start();
        try (OutputStream in = process.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException ignored) {
            // the tool exited before reading its input; its exit status tells why
        }
        String out = drain(process.getInputStream());
        try {
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor();
                throw new IOException("`" + String.join(" ", command) + "` did not finish within " + TIMEOUT_SECONDS + " s");
            }
            return new Result(List.copyOf(command), process.exitValue(), out, err.get());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running `" + String.join(" ", command) + "`", e);
        } catch (ExecutionException e) {
            return new Result(List.copyOf(command), process.exitValue(), out, "");
        }
    }

    /** Runs the command and returns its stdout; a non-zero exit is an {@link IOException}. */
    static String run(List<String> command, String stdin) throws IOException {
        Result r = exec(command, stdin);
        if (!r.ok()) {
            throw new IOException(r.describe());
        }
        return r.stdout();
    }

    static String run(String... command) throws IOException {
        return run(List.of(command), null);
    }

    private static String drain(InputStream in) {
        try (in) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            in.transferTo(buf);
            return buf.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
