package dev.berth.node.cgroup;

import dev.berth.node.nativeio.Errno;
import dev.berth.node.nativeio.Libc;
import dev.berth.node.nativeio.LinuxException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes cgroup control files. Writes go through one write(2) each, as the kernel parses each write as a
 * whole value; every failure names the call, the file and the value.
 */
final class CgroupFiles {

    private CgroupFiles() {
    }

    static void write(Path file, String value) throws IOException {
        int fd;
        try {
            fd = Libc.open(file.toString(), Libc.O_WRONLY | Libc.O_CLOEXEC);
        } catch (LinuxException e) {
            throw new LinuxException("open(\"" + file + "\", O_WRONLY) to write \"" + value.strip() + "\"", e.errno());
        }
        try {
            Libc.write(fd, value.getBytes(StandardCharsets.UTF_8), file.toString());
        } finally {
            Libc.close(fd);
        }
    }

    static String read(Path file) throws IOException {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new IOException("read " + file + ": no such file", e);
        } catch (IOException e) {
            throw new IOException("read " + file + ": " + e.getMessage(), e);
        }
    }

    /** The file's content trimmed, or null when the file does not exist (a controller file this kernel lacks). */
    static String readIfExists(Path file) throws IOException {
        try {
            return Files.readString(file).trim();
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new IOException("read " + file + ": " + e.getMessage(), e);
        }
    }

    static long readLong(Path file) throws IOException {
        String text = read(file).trim();
        if (text.equals("max")) {
            return Long.MAX_VALUE;
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IOException("read " + file + ": not a number: \"" + text + "\"");
        }
    }

    /** The value of {@code key} in a flat-keyed file (memory.stat, cpu.stat, memory.events), or -1 if absent. */
    static long keyed(Path file, String key) throws IOException {
        String text = readIfExists(file);
        if (text == null) {
            return -1;
        }
        for (String line : text.split("\n")) {
            int sp = line.indexOf(' ');
            if (sp > 0 && line.substring(0, sp).equals(key)) {
                try {
                    return Long.parseLong(line.substring(sp + 1).trim());
                } catch (NumberFormatException e) {
                    throw new IOException("read " + file + ": bad value for " + key + ": \"" + line + "\"");
                }
            }
        }
        return -1;
    }

    /** The PIDs listed in a cgroup.procs file; none when the cgroup is gone. */
    static List<Integer> procs(Path file) throws IOException {
        String text = readIfExists(file);
        List<Integer> pids = new ArrayList<>();
        if (text == null || text.isEmpty()) {
            return pids;
        }
        for (String line : text.split("\n")) {
            int pid = Integer.parseInt(line.trim());
            // 0 stands for a process outside our PID namespace: nothing we could signal.
            if (pid > 0) {
                pids.add(pid);
            }
        }
        return pids;
    }

    /** mkdir(2); returns false when the directory was already there. */
    static boolean mkdir(Path dir) throws LinuxException {
        try {
            Libc.mkdir(dir.toString(), 0755);
            return true;
        } catch (LinuxException e) {
            if (e.errno() == Errno.EEXIST) {
                return false;
            }
            throw e;
        }
    }

    /** rmdir(2); returns false when the directory was already gone. */
    static boolean rmdir(Path dir) throws LinuxException {
        try {
            Libc.rmdir(dir.toString());
            return true;
        } catch (LinuxException e) {
            if (e.errno() == Errno.ENOENT) {
                return false;
            }
            throw e;
        }
    }
}
