package dev.berth.node.runtime;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process started by {@link ContainerRuntime#exec}; its exit code is known once {@link #waitFor()} returns. */
public final class ExecProcess implements Closeable {
    private final String id;
    private final int pid;
    private final AttachStream stream;
    private final Path dir;

    ExecProcess(String id, int pid, AttachStream stream, Path dir) {
        this.id = id;
        this.pid = pid;
        this.stream = stream;
        this.dir = dir;
    }

    public String id() {
        return id;
    }

    /** Host PID of the process. */
    public int pid() {
        return pid;
    }

    /** The output (and stdin) stream, or null when not attached. */
    public AttachStream stream() {
        return stream;
    }

    /** Blocks until the process has exited; returns its code (128+n when killed by signal n). */
    public int waitFor() throws IOException {
        Integer code = ShimFiles.exitCode(dir);
        if (code != null) {
            return code;
        }
        try (AttachStream w = AttachStream.connect(dir.resolve("attach"), 'w')) {
            w.framedOutput().transferTo(java.io.OutputStream.nullOutputStream());
        } catch (IOException e) {
            // the shim is already gone: the exit file tells
        }
        code = ShimFiles.exitCode(dir);
        if (code == null) {
            throw new IOException("exec " + id + ": its shim ended without recording an exit status (see "
                    + dir.resolve("shim.log") + ")");
        }
        return code;
    }

    /** The exit code, or null while it runs. */
    public Integer exitCode() throws IOException {
        return Files.exists(dir) ? ShimFiles.exitCode(dir) : null;
    }

    @Override
    public void close() throws IOException {
        if (stream != null) {
            stream.close();
        }
    }
}
