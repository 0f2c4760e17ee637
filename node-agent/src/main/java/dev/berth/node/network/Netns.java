package dev.berth.node.network;

import dev.berth.node.nativeio.Errno;
import dev.berth.node.nativeio.Libc;
import dev.berth.node.nativeio.LinuxException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Persistent network namespaces: a new namespace bind-mounted onto a file, as {@code ip netns add} does, so that it
 * outlives every process in it and a container process can join it by path.
 *
 * <p>The namespace is made on a fresh platform thread that unshares its own network namespace, bind-mounts it and
 * then returns to the agent's namespace before it ends. The network namespace belongs to the thread, not the
 * process, so no other JVM thread ever leaves the host's network; and because the thread is thrown away, even a
 * failed return (setns) cannot leave a pooled thread in the wrong namespace.
 */
final class Netns {
    private Netns() {
    }

    /**
     * Creates a network namespace bound at {@code path} (a new file; its directory is created). On failure nothing
     * remains at {@code path}.
     */
    static void create(Path path) throws IOException {
        Files.createDirectories(path.getParent());
        try {
            Files.createFile(path);
        } catch (FileAlreadyExistsException e) {
            throw new IOException("network namespace file " + path + " already exists", e);
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread worker = new Thread(() -> {
            try {
                bindNewNamespace(path);
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "berth-netns-create");
        worker.setDaemon(true);
        worker.start();
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            // the worker finishes on its own; wait for it so the file is not removed under its mount
            joinUninterruptibly(worker);
            remove(path);
            throw new IOException("interrupted while creating network namespace " + path, e);
        }
        Throwable t = failure.get();
        if (t != null) {
            try {
                remove(path);
            } catch (IOException cleanup) {
                t.addSuppressed(cleanup);
            }
            if (t instanceof IOException io) {
                throw io;
            }
            throw new IOException("creating network namespace " + path + ": " + t, t);
        }
    }

    private static void bindNewNamespace(Path path) throws LinuxException {
        int original = Libc.open("/proc/thread-self/ns/net", Libc.O_RDONLY | Libc.O_CLOEXEC);
        try {
            Libc.unshare(Libc.CLONE_NEWNET);
            try {
                Libc.mount("/proc/self/task/" + Libc.gettid() + "/ns/net", path.toString(), "none", Libc.MS_BIND, null);
            } finally {
                Libc.setns(original, Libc.CLONE_NEWNET);
            }
        } finally {
            Libc.close(original);
        }
    }

    /** Unmounts (lazily) and deletes the namespace file; nothing happens if it is already gone. */
    static void remove(Path path) throws IOException {
        try {
            Libc.umount2(path.toString(), Libc.MNT_DETACH);
        } catch (LinuxException e) {
            // EINVAL: the file is there but nothing is mounted on it (a create that failed half-way)
            if (e.errno() != Errno.EINVAL && e.errno() != Errno.ENOENT) {
                throw e;
            }
        }
        Files.deleteIfExists(path);
    }

    /** Whether something is mounted exactly at {@code path} in the agent's mount namespace. */
    static boolean isMounted(Path path) throws IOException {
        String target = path.toAbsolutePath().normalize().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
            String[] fields = line.split(" ");
            if (fields.length > 4 && unescape(fields[4]).equals(target)) {
                return true;
            }
        }
        return false;
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo. */
    private static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length()) {
                try {
                    sb.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException | StringIndexOutOfBoundsException ignored) {
                    // not an escape: keep the backslash
                }
            }
            sb.append(c);
        }
        return sb.toString();
    }

    private static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
