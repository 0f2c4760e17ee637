package dev.berth.node.cgroup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Where each cgroup controller is on this host, read from {@code /proc/self/mountinfo} and {@code /proc/self/cgroup}
 * rather than assumed: v1 controllers may be mounted one per hierarchy or co-mounted ({@code cpu,cpuacct}), named
 * hierarchies ({@code name=systemd}) carry no controller, and a cgroup2 mount offers the controllers listed in its
 * root's {@code cgroup.controllers} (none, when they are all bound to v1 hierarchies).
 *
 * <p>The mode: {@code v2} when controllers are only on cgroup2, {@code v1} when no cgroup2 carries any controller,
 * {@code hybrid} when both carry some.
 */
public record CgroupLayout(List<Hierarchy> hierarchies) {

    /** Controllers a cgroup v1 mount can carry; any other mount option is not a controller. */
    static final Set<String> V1_CONTROLLERS = Set.of("cpu", "cpuacct", "cpuset", "memory", "devices", "freezer",
            "net_cls", "net_prio", "blkio", "perf_event", "hugetlb", "pids", "rdma", "misc");

    public CgroupLayout {
        hierarchies = List.copyOf(hierarchies);
    }

    /**
     * Reads the layout of the calling process.
     *
     * @throws IOException if /proc cannot be read or no cgroup hierarchy is mounted
     */
    public static CgroupLayout detect() throws IOException {
        String mountinfo = read(Path.of("/proc/self/mountinfo"));
        String cgroups = read(Path.of("/proc/self/cgroup"));
        try {
            CgroupLayout layout = parse(mountinfo, cgroups, CgroupLayout::readControllers);
            if (layout.hierarchies.isEmpty()) {
                throw new IOException("no cgroup or cgroup2 file system mounted (read /proc/self/mountinfo)");
            }
            return layout;
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * Builds the layout from the text of {@code /proc/self/mountinfo} and {@code /proc/self/cgroup};
     * {@code unifiedControllers} gives the controllers a cgroup2 mount point offers.
     */
    public static CgroupLayout parse(String mountinfo, String procSelfCgroup, Function<Path, Set<String>> unifiedControllers) {
        Map<Set<String>, String> v1Paths = new HashMap<>();
        String unifiedPath = null;
        for (String line : procSelfCgroup.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length < 3) {
                continue;
            }
            if (f[0].equals("0") && f[1].isEmpty()) {
                unifiedPath = f[2];
            } else if (!f[1].isEmpty()) {
                v1Paths.put(Set.of(f[1].split(",")), f[2]);
            }
        }

        List<Hierarchy> found = new ArrayList<>();
        Set<Set<String>> seenV1 = new LinkedHashSet<>();
        boolean seenUnified = false;
        for (String line : mountinfo.split("\n")) {
            String[] f = line.trim().split(" ");
            int sep = indexOf(f, "-");
            if (sep < 6 || f.length < sep + 4) {
                continue;
            }
            String root = unescape(f[3]);
            Path mountPoint = Path.of(unescape(f[4]));
            String fsType = f[sep + 1];
            String superOptions = f[sep + 3];
            if (fsType.equals("cgroup")) {
                Set<String> options = Set.of(superOptions.split(","));
                Set<String> controllers = new TreeSet<>(options);
                controllers.retainAll(V1_CONTROLLERS);
                if (controllers.isEmpty() || !seenV1.add(controllers)) {
                    continue;
                }
                String own = relative(root, v1Paths.get(matchKey(v1Paths, controllers)));
                found.add(new Hierarchy(mountPoint, false, controllers, own));
            } else if (fsType.equals("cgroup2") && !seenUnified) {
                seenUnified = true;
                found.add(new Hierarchy(mountPoint, true, unifiedControllers.apply(mountPoint), relative(root, unifiedPath)));
            }
        }
        return new CgroupLayout(found);
    }

    /** "v1", "v2" or "hybrid". */
    public String mode() {
        boolean v1 = hierarchies.stream().anyMatch(h -> !h.unified() && !h.controllers().isEmpty());
        boolean v2 = hierarchies.stream().anyMatch(h -> h.unified() && !h.controllers().isEmpty());
        if (v1 && v2) {
            return "hybrid";
        }
        if (v1) {
            return "v1";
        }
        return hierarchies.stream().anyMatch(Hierarchy::unified) ? "v2" : "v1";
    }

    /** The v1 hierarchy carrying this controller, or else the cgroup2 one offering it, or null. */
    public Hierarchy carrying(String controller) {
        for (Hierarchy h : hierarchies) {
            if (h.carries(controller)) {
                return h;
            }
        }
        return null;
    }

    /** The cgroup2 hierarchy, or null when none is mounted. */
    public Hierarchy unified() {
        return hierarchies.stream().filter(Hierarchy::unified).findFirst().orElse(null);
    }

    private static Set<String> matchKey(Map<Set<String>, String> v1Paths, Set<String> controllers) {
        for (Set<String> key : v1Paths.keySet()) {
            if (key.containsAll(controllers)) {
                return key;
            }
        }
        return Set.of();
    }

    /**
     * This process's cgroup relative to the mount: the mount may show only a subtree (a bind mount in a container), in
     * which case the path in /proc/self/cgroup starts with the mount's root. A path outside the mounted subtree is not
     * reachable through it, so the mount's root stands in for it.
     */
    private static String relative(String mountRoot, String cgroupPath) {
        if (cgroupPath == null || cgroupPath.isEmpty()) {
            return "";
        }
        if (mountRoot.equals("/")) {
            return cgroupPath;
        }
        if (cgroupPath.equals(mountRoot)) {
            return "";
        }
        if (cgroupPath.startsWith(mountRoot + "/")) {
            return cgroupPath.substring(mountRoot.length());
        }
        return "";
    }

    private static int indexOf(String[] fields, String value) {
        for (int i = 0; i < fields.length; i++) {
            if (fields[i].equals(value)) {
                return i;
            }
        }
        return -1;
    }

    /** mountinfo escapes space, tab, newline and backslash as three octal digits. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()
                    && s.substring(i + 1, i + 4).chars().allMatch(d -> d >= '0' && d <= '7')) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static Set<String> readControllers(Path mountPoint) {
        Path file = mountPoint.resolve("cgroup.controllers");
        try {
            String text = Files.readString(file).trim();
            return text.isEmpty() ? Set.of() : Set.of(text.split("\\s+"));
        } catch (NoSuchFileException e) {
            return Set.of();
        } catch (IOException e) {
            throw new UncheckedIOException(new IOException("read " + file + ": " + e.getMessage(), e));
        }
    }

    private static String read(Path file) throws IOException {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new IOException("read " + file + ": " + e.getMessage(), e);
        }
    }
}
