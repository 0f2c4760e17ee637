package dev.berth.gateway.system;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Facts about the host the gateway runs on, read from the kernel's own files each time they are asked for
 * (they are cheap and some, like the hostname, can change). Every reader falls back to an empty or zero value
 * rather than failing, because /info must always answer.
 */
public final class HostFacts {

    private final Path proc;
    private final Path etc;
    private final Path sysFsCgroup;

    public HostFacts() {
        this(Path.of("/proc"), Path.of("/etc"), Path.of("/sys/fs/cgroup"));
    }

    HostFacts(Path proc, Path etc, Path sysFsCgroup) {
        this.proc = proc;
        this.etc = etc;
        this.sysFsCgroup = sysFsCgroup;
    }

    /** uname -r. */
    public String kernelVersion() {
        return firstLine(proc.resolve("sys/kernel/osrelease"));
    }

    /** uname -n. */
    public String hostname() {
        return firstLine(proc.resolve("sys/kernel/hostname"));
    }

    /** uname -m, e.g. x86_64 (what /info reports as Architecture). */
    public String machine() {
        String arch = System.getProperty("os.arch", "");
        return switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
    }

    /** The Go name of the architecture, e.g. amd64 (what /version reports as Arch). */
    public String goArch() {
        return switch (machine()) {
            case "x86_64" -> "amd64";
            case "aarch64" -> "arm64";
            case "i386", "i686", "x86" -> "386";
            default -> machine();
        };
    }

    /** CPUs this process may run on, as Go's runtime.NumCPU counts them. */
    public int cpus() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** MemTotal from /proc/meminfo, in bytes. */
    public long memTotalBytes() {
        for (String line : lines(proc.resolve("meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                String[] f = line.substring("MemTotal:".length()).trim().split("\\s+");
                try {
                    return Long.parseLong(f[0]) * 1024L;
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 0;
    }

    /** /etc/os-release as a map (PRETTY_NAME, VERSION_ID, ...). */
    public Map<String, String> osRelease() {
        Map<String, String> values = new HashMap<>();
        List<String> lines = lines(etc.resolve("os-release"));
        if (lines.isEmpty()) {
            lines = lines(Path.of("/usr/lib/os-release"));
        }
        for (String line : lines) {
            int eq = line.indexOf('=');
            if (eq > 0 && !line.startsWith("#")) {
                String value = line.substring(eq + 1).trim();
                if (value.length() >= 2 && (value.startsWith("\"") || value.startsWith("'"))) {
                    value = value.substring(1, value.length() - 1);
                }
                values.put(line.substring(0, eq).trim(), value);
            }
        }
        return values;
    }

    /** 2 when /sys/fs/cgroup is the unified hierarchy, 1 otherwise (including hybrid hosts). */
    public int cgroupVersion() {
        return Files.exists(sysFsCgroup.resolve("cgroup.controllers")) ? 2 : 1;
    }

    /** The cgroup controllers the host offers, wherever they are mounted. */
    public Set<String> cgroupControllers() {
        Set<String> controllers = new HashSet<>();
        if (cgroupVersion() == 2) {
            controllers.addAll(List.of(firstLine(sysFsCgroup.resolve("cgroup.controllers")).split("\\s+")));
        } else {
            for (String line : lines(proc.resolve("self/mountinfo"))) {
                int dash = line.indexOf(" - ");
                if (dash < 0) {
                    continue;
                }
                String[] tail = line.substring(dash + 3).split(" ");
                if (tail.length >= 3 && tail[0].equals("cgroup")) {
                    controllers.addAll(List.of(tail[2].split(",")));
                }
            }
        }
        controllers.remove("");
        return controllers;
    }

    /** Whether swap accounting is available to limit containers' swap. */
    public boolean swapLimit() {
        return cgroupVersion() == 2
                ? Files.exists(sysFsCgroup.resolve("init.scope/memory.swap.max"))
                        || Files.exists(sysFsCgroup.resolve("system.slice/memory.swap.max"))
                : Files.exists(sysFsCgroup.resolve("memory/memory.memsw.limit_in_bytes"));
    }

    /** A kernel flag under /proc/sys that is "1" when on; absent means off. */
    public boolean sysctlOn(String name) {
        return firstLine(proc.resolve("sys").resolve(name.replace('.', '/'))).equals("1");
    }

    /** Open file descriptors of this process. */
    public int openFiles() {
        try (var fds = Files.list(proc.resolve("self/fd"))) {
            return (int) fds.count();
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * The filesystem type holding {@code dir} (or its nearest existing ancestor), named as Docker names it
     * ("extfs" for ext2/3/4).
     */
    public String backingFilesystem(String dir) {
        String best = "";
        String type = "";
        for (String line : lines(proc.resolve("self/mountinfo"))) {
            String[] f = line.split(" ");
            int dash = line.indexOf(" - ");
            if (f.length < 5 || dash < 0) {
                continue;
            }
            String mountPoint = f[4].replace("\\040", " ");
            boolean covers = dir.equals(mountPoint) || mountPoint.equals("/")
                    || dir.startsWith(mountPoint.endsWith("/") ? mountPoint : mountPoint + "/");
            if (covers && mountPoint.length() >= best.length()) {
                best = mountPoint;
                type = line.substring(dash + 3).split(" ")[0];
            }
        }
        return switch (type) {
            case "ext2", "ext3", "ext4" -> "extfs";
            default -> type;
        };
    }

    /**
     * A stable identifier of this engine: derived from /etc/machine-id so that it survives restarts without the
     * gateway keeping state, and does not reveal the machine id itself.
     */
    public String engineId() {
        String machineId = firstLine(etc.resolve("machine-id"));
        String seed = machineId.isEmpty() ? hostname() : machineId;
        return UUID.nameUUIDFromBytes(("berth-engine:" + seed).getBytes(StandardCharsets.UTF_8)).toString();
    }

    /** An environment variable in either case, as Go's proxy settings are read, or "". */
    public static String proxyEnv(String name) {
        String v = System.getenv(name.toUpperCase(Locale.ROOT));
        if (v == null) {
            v = System.getenv(name.toLowerCase(Locale.ROOT));
        }
        return v == null ? "" : v;
    }

    private static String firstLine(Path file) {
        List<String> lines = lines(file);
        return lines.isEmpty() ? "" : lines.get(0).trim();
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }
}
