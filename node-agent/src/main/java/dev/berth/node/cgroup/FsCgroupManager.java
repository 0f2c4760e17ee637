package dev.berth.node.cgroup;

import dev.berth.node.nativeio.Errno;
import dev.berth.node.nativeio.LinuxException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@link CgroupManager} over the cgroup file systems, for v1, v2 and hybrid hosts.
 *
 * <p>Placement: the node's parent group ({@code berth} by default) is made at the root of each hierarchy; where the
 * root is not writable (EACCES, EPERM or EROFS from mkdir, as in a container with a read-only cgroup mount) it goes
 * under the agent's own cgroup instead. Containers get {@code <parent>/<containerId>} in each hierarchy that carries a
 * controller Berth uses (cpu, cpuacct, cpuset, memory, pids, freezer, devices), plus the cgroup2 hierarchy whenever it is
 * mounted: there it gives cgroup.kill, cgroup.freeze and the cpu.stat every cgroup2 group has, even when it carries no
 * controller (hybrid hosts).
 *
 * <p>On cgroup2 the parent delegates controllers to containers through cgroup.subtree_control, from the mount's root
 * down: every offered controller in v2 mode (as runc does), only those Berth uses in hybrid mode (so that the host's
 * own cgroup2 root is left alone there).
 *
 * <p>Limits follow the Engine API: a memory limit without MemorySwap gets Docker's default memory+swap of twice the
 * memory; MemorySwap -1 is unlimited swap; CpuQuota or PidsLimit -1 removes the limit (on update); 0 leaves a value as
 * it is. New containers on v1 also get Docker's default device rules (devices.deny "a", then the usual allow list).
 */
public final class FsCgroupManager implements CgroupManager {

    /** The node's parent group when none is configured. */
    public static final String DEFAULT_PARENT = "berth";

    /** Controllers Berth sets or reads. */
    static final Set<String> USED = Set.of("cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "devices");

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final System.Logger LOG = System.getLogger(FsCgroupManager.class.getName());

    private final CgroupLayout layout;
    private final String parentName;
    /** Each hierarchy a container joins, with the node's parent group in it. */
    private final Map<Hierarchy, Path> parents = new LinkedHashMap<>();

    /**
     * Makes (or finds) the node's parent group in each hierarchy.
     *
     * @param layout     where the controllers are ({@link CgroupLayout#detect()} on a real host)
     * @param parentName the node's parent group, one path component
     * @throws IOException if the parent group cannot be made in a hierarchy that carries a controller Berth uses
     */
    public FsCgroupManager(CgroupLayout layout, String parentName) throws IOException {
        if (parentName == null || !NAME.matcher(parentName).matches()) {
            throw new IllegalArgumentException("invalid cgroup parent name \"" + parentName + "\": use letters, digits, '_', '.', '-'");
        }
        this.layout = layout;
        this.parentName = parentName;
        for (Hierarchy h : layout.hierarchies()) {
            boolean needed = !Collections.disjoint(h.controllers(), USED) || "v2".equals(layout.mode());
            if (!needed && !h.unified()) {
                continue;
            }
            try {
                parents.put(h, placeParent(h));
            } catch (IOException e) {
                if (needed) {
                    throw e;
                }
                // The cgroup2 mount of a hybrid host only adds cgroup.kill/freeze: the node works without it.
                LOG.log(System.Logger.Level.WARNING, "not using " + h + ": " + e.getMessage());
            }
        }
        if (parents.isEmpty()) {
            throw new IOException("no usable cgroup hierarchy in " + layout.hierarchies());
        }
    }

    /** A manager for this host's layout, as read from /proc/self/mountinfo. */
    public static FsCgroupManager detect(String parentName) throws IOException {
        return new FsCgroupManager(CgroupLayout.detect(), parentName);
    }

    @Override
    public Cgroup create(String containerId, Resources resources) throws IOException {
        checkId(containerId);
        Resources limits = resources == null ? Resources.NONE : resources;
        List<Path> made = new ArrayList<>();
        Map<Hierarchy, Path> dirs = new LinkedHashMap<>();
        try {
            for (Map.Entry<Hierarchy, Path> e : parents.entrySet()) {
                Hierarchy h = e.getKey();
                ensureParent(h, e.getValue());
                Path dir = e.getValue().resolve(containerId);
                if (!CgroupFiles.mkdir(dir)) {
                    throw new IOException("cgroup " + dir + " already exists (container " + containerId + ")");
                }
                made.add(dir);
                dirs.put(h, dir);
                if (!h.unified() && h.carries("cpuset")) {
                    inheritCpuset(dir);
                }
                if (!h.unified() && h.carries("devices")) {
                    restrictDevices(dir);
                }
            }
            FsCgroup cgroup = new FsCgroup(containerId, dirs);
            cgroup.apply(limits, true, null);
            return cgroup;
        } catch (IOException | RuntimeException e) {
            Collections.reverse(made);
            for (Path dir : made) {
                try {
                    CgroupFiles.rmdir(dir);
                } catch (IOException x) {
                    e.addSuppressed(x);
                }
            }
            throw e;
        }
    }

    @Override
    public Cgroup find(String containerId) throws IOException {
        checkId(containerId);
        Map<Hierarchy, Path> dirs = new LinkedHashMap<>();
        for (Map.Entry<Hierarchy, Path> e : parents.entrySet()) {
            Path dir = e.getValue().resolve(containerId);
            if (Files.isDirectory(dir)) {
                dirs.put(e.getKey(), dir);
            }
        }
        return dirs.isEmpty() ? null : new FsCgroup(containerId, dirs);
    }

    @Override
    public String mode() {
        return layout.mode();
    }

    @Override
    public void removeParent() throws IOException {
        List<Path> dirs = new ArrayList<>(parents.values());
        Collections.reverse(dirs);
        for (Path dir : dirs) {
            try {
                CgroupFiles.rmdir(dir);
            } catch (LinuxException e) {
                if (e.errno() == Errno.EBUSY) {
                    throw new IOException(e.getMessage() + ": container groups are still in it", e);
                }
                throw e;
            }
        }
    }

    /** The layout this manager works on. */
    public CgroupLayout layout() {
        return layout;
    }

    /** The node's parent group directory in each hierarchy used. */
    public Map<Hierarchy, Path> parentDirs() {
        return Collections.unmodifiableMap(parents);
    }

    private Path placeParent(Hierarchy h) throws IOException {
        Path atRoot = h.mountPoint().resolve(parentName);
        try {
            ensureParent(h, atRoot);
            return atRoot;
        } catch (LinuxException e) {
            boolean denied = e.errno() == Errno.EACCES || e.errno() == Errno.EPERM || e.errno() == Errno.EROFS;
            if (!denied || h.ownPath().isEmpty()) {
                throw e;
            }
        }
        Path underOwn = h.ownDir().resolve(parentName);
        ensureParent(h, underOwn);
        return underOwn;
    }

    private void ensureParent(Hierarchy h, Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            CgroupFiles.mkdir(dir);
        }
        if (h.unified()) {
            delegate(h, dir);
        } else if (h.carries("cpuset")) {
            inheritCpuset(dir);
        }
    }

    /**
     * Enables controllers in cgroup.subtree_control from the mount's root down to the parent group, so that container
     * groups get them. A level that holds processes (the agent's own cgroup, when the parent had to go under it)
     * cannot delegate: that is left to show as a missing controller when a limit needs it.
     */
    private void delegate(Hierarchy h, Path parentDir) throws IOException {
        boolean all = "v2".equals(layout.mode());
        List<Path> levels = new ArrayList<>();
        for (Path p = parentDir; p != null && p.startsWith(h.mountPoint()); p = p.getParent()) {
            levels.add(0, p);
        }
        for (Path level : levels) {
            Set<String> wanted = words(CgroupFiles.readIfExists(level.resolve("cgroup.controllers")));
            if (!all) {
                wanted.retainAll(USED);
            }
            wanted.removeAll(words(CgroupFiles.readIfExists(level.resolve("cgroup.subtree_control"))));
            if (wanted.isEmpty()) {
                continue;
            }
            StringBuilder line = new StringBuilder();
            for (String c : wanted) {
                line.append(line.length() == 0 ? "+" : " +").append(c);
            }
            try {
                CgroupFiles.write(level.resolve("cgroup.subtree_control"), line.toString());
            } catch (LinuxException e) {
                if (e.errno() != Errno.EBUSY) {
                    throw e;
                }
                LOG.log(System.Logger.Level.WARNING, "cannot delegate " + wanted + " below " + level
                        + " (it holds processes): " + e.getMessage());
            }
        }
    }

    /** A new v1 cpuset group has no CPUs or memory nodes and refuses tasks until given its parent's. */
    private static void inheritCpuset(Path dir) throws IOException {
        for (String file : List.of("cpuset.cpus", "cpuset.mems")) {
            String own = CgroupFiles.readIfExists(dir.resolve(file));
            if (own == null || !own.isEmpty()) {
                continue;
            }
            String parent = CgroupFiles.read(dir.getParent().resolve(file)).trim();
            CgroupFiles.write(dir.resolve(file), parent);
        }
    }

    /** Docker's default device cgroup rules: mknod of anything, read/write only of the harmless character devices. */
    static final List<String> DEFAULT_DEVICE_RULES = List.of(
            "c *:* m", "b *:* m",
            "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", // null zero full random urandom
            "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",         // tty console ptmx pts
            "c 10:200 rwm");                                              // net/tun

    private static void restrictDevices(Path dir) throws IOException {
        CgroupFiles.write(dir.resolve("devices.deny"), "a");
        for (String rule : DEFAULT_DEVICE_RULES) {
            CgroupFiles.write(dir.resolve("devices.allow"), rule);
        }
    }

    private static Set<String> words(String text) {
        Set<String> out = new LinkedHashSet<>();
        if (text != null && !text.isBlank()) {
            Collections.addAll(out, text.trim().split("\\s+"));
        }
        return out;
    }

    private static void checkId(String containerId) {
        if (containerId == null || !NAME.matcher(containerId).matches()) {
            throw new IllegalArgumentException("invalid container id for a cgroup: \"" + containerId + "\"");
        }
    }
}
