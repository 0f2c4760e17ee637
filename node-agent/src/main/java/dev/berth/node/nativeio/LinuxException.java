package dev.berth.node.nativeio;

import java.io.IOException;

/**
 * A failed system call: the errno, its symbolic name and the call with its arguments, as in
 * {@code mount("overlay", "/var/lib/berth/...", "overlay", 0, "lowerdir=...") failed: ENOENT (No such file or directory)}.
 */
public final class LinuxException extends IOException {
    private final int errno;
    private final String call;

    public LinuxException(String call, int errno) {
        super(call + " failed: " + Errno.name(errno) + " (" + Errno.describe(errno) + ")");
        this.errno = errno;
        this.call = call;
    }

    /** The errno value the kernel returned. */
    public int errno() {
        return errno;
    }

    /** The call, rendered with its arguments. */
    public String call() {
        return call;
    }
}
