package dev.berth.node.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The files berth-shim leaves in its directory: {@code exit} (key value lines), {@code shim.pid}, {@code init.pid}. */
final class ShimFiles {
    private ShimFiles() {
    }

    /** The keys of the exit file, or null while the process runs. */
    static Map<String, String> exit(Path dir) throws IOException {
        String text;
        try {
            text = Files.readString(dir.resolve("exit"));
        } catch (NoSuchFileException e) {
            return null;
        }
        Map<String, String> m = new HashMap<>();
        for (String line : text.split("\n")) {
            int sp = line.indexOf(' ');
            if (sp > 0) {
                m.put(line.substring(0, sp), line.substring(sp + 1));
            }
        }
        return m;
    }

    static Integer exitCode(Path dir) throws IOException {
        Map<String, String> m = exit(dir);
        return m == null ? null : Integer.valueOf(m.getOrDefault("exit_code", "255"));
    }

    static int pid(Path file) throws IOException {
        try {
            return Integer.parseInt(Files.readString(file).trim());
        } catch (NoSuchFileException | NumberFormatException e) {
            return 0;
        }
    }

    /** Whether {@code pid} is a live berth-shim serving {@code dir} (its working directory), not a reused PID. */
    static boolean shimAlive(int pid, Path dir) {
        if (pid <= 0) {
            return false;
        }
        try {
            Path cwd = Files.readSymbolicLink(Path.of("/proc/" + pid + "/cwd"));
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && cwd.equals(dir.toAbsolutePath().normalize());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
