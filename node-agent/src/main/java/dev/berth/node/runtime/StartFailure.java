package dev.berth.node.runtime;

/**
 * The container's process could not be started. {@link #exitCode()} is what Docker records and the CLI exits with:
 * 127 when the command is not found ({@code exec: "x": executable file not found in $PATH}), 126 when it cannot be
 * executed (permission denied, a directory), 1 for other setup failures (a mount, an rlimit the kernel refuses).
 * The Engine API answers 400 for these.
 */
public final class StartFailure extends RuntimeFailure {
    private final int exitCode;

    public StartFailure(int exitCode, String message) {
        super(400, message);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
