package dev.berth.node.cgroup;

import dev.berth.node.cgroup.CgroupManager.CgroupStats;
import dev.berth.node.cgroup.CgroupManager.Resources;
import dev.berth.node.nativeio.Errno;
import dev.berth.node.nativeio.Libc;
import dev.berth.node.nativeio.LinuxException;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A container's cgroup: one directory per hierarchy, each controller handled in the hierarchy that carries it.
 * Holds no state beyond its directories: concurrent calls are as safe as the kernel's own files make them.
 */
final class FsCgroup implements CgroupManager.Cgroup {

    private static final int SIGKILL = 9;
    /** USER_HZ: the unit of cpuacct.stat, fixed at 100 by the kernel ABI whatever the kernel's HZ. */
    private static final long NANOS_PER_USER_HZ = 10_000_000;
    private static final long FREEZE_TIMEOUT_NANOS = 10_000_000_000L;
    private static final long KILL_TIMEOUT_NANOS = 10_000_000_000L;

    private final String id;
    private final Map<Hierarchy, Path> dirs;

    FsCgroup(String id, Map<Hierarchy, Path> dirs) {
        this.id = id;
        this.dirs = Collections.unmodifiableMap(new LinkedHashMap<>(dirs));
    }

    /** The container's directory in each hierarchy it has. */
    Map<Hierarchy, Path> dirs() {
        return dirs;
    }

    @Override
    public List<String> procsFiles() {
        List<String> files = new ArrayList<>();
        for (Path dir : dirs.values()) {
            files.add(dir.resolve("cgroup.procs").toString());
        }
        return files;
    }

    @Override
    public void addProcess(int pid) throws IOException {
        for (Path dir : dirs.values()) {
            CgroupFiles.write(dir.resolve("cgroup.procs"), Integer.toString(pid));
        }
    }

    /** Applies the limits; if the kernel refuses one, the values already written are put back as they were. */
    @Override
    public void update(Resources resources) throws IOException {
        List<String[]> journal = new ArrayList<>();
        try {
            apply(resources == null ? Resources.NONE : resources, false, journal);
        } catch (IOException | RuntimeException e) {
            for (int i = journal.size() - 1; i >= 0; i--) {
                try {
                    CgroupFiles.write(Path.of(journal.get(i)[0]), journal.get(i)[1]);
                } catch (IOException x) {
                    e.addSuppressed(x);
                }
            }
            throw e;
        }
    }

    @Override
    public List<Integer> pids() throws IOException {
        Set<Integer> all = new TreeSet<>();
        for (Path dir : dirs.values()) {
            all.addAll(CgroupFiles.procs(dir.resolve("cgroup.procs")));
        }
        return new ArrayList<>(all);
    }

    @Override
    public CgroupStats stats() throws IOException {
        long total = 0, user = 0, system = 0;
        Path cpuacct = v1("cpuacct");
        Path unified = unifiedDir();
        if (cpuacct != null) {
            total = CgroupFiles.readLong(cpuacct.resolve("cpuacct.usage"));
            user = Math.max(0, CgroupFiles.keyed(cpuacct.resolve("cpuacct.stat"), "user")) * NANOS_PER_USER_HZ;
            system = Math.max(0, CgroupFiles.keyed(cpuacct.resolve("cpuacct.stat"), "system")) * NANOS_PER_USER_HZ;
        } else if (unified != null && Files.exists(unified.resolve("cpu.stat"))) {
            Path stat = unified.resolve("cpu.stat");
            total = Math.max(0, CgroupFiles.keyed(stat, "usage_usec")) * 1000;
            user = Math.max(0, CgroupFiles.keyed(stat, "user_usec")) * 1000;
            system = Math.max(0, CgroupFiles.keyed(stat, "system_usec")) * 1000;
        }

        long usage = 0, limit = 0, maxUsage = 0, inactiveFile = 0;
        Target memory = target("memory");
        if (memory != null && !memory.v2) {
            usage = CgroupFiles.readLong(memory.dir.resolve("memory.usage_in_bytes"));
            limit = CgroupFiles.readLong(memory.dir.resolve("memory.limit_in_bytes"));
            maxUsage = CgroupFiles.readLong(memory.dir.resolve("memory.max_usage_in_bytes"));
            inactiveFile = Math.max(0, CgroupFiles.keyed(memory.dir.resolve("memory.stat"), "total_inactive_file"));
        } else if (memory != null) {
            usage = CgroupFiles.readLong(memory.dir.resolve("memory.current"));
            limit = CgroupFiles.readLong(memory.dir.resolve("memory.max"));
            String peak = CgroupFiles.readIfExists(memory.dir.resolve("memory.peak"));
            maxUsage = peak == null ? 0 : Long.parseLong(peak);
            inactiveFile = Math.max(0, CgroupFiles.keyed(memory.dir.resolve("memory.stat"), "inactive_file"));
        }
        if (memory != null) {
            // Docker reports the machine's memory as the limit of an unlimited container.
            long host = hostMemory();
            if (host > 0 && limit > host) {
                limit = host;
            }
        }

        long pidsCurrent = 0, pidsLimit = 0;
        Target pids = target("pids");
        if (pids != null) {
            pidsCurrent = CgroupFiles.readLong(pids.dir.resolve("pids.current"));
            long max = CgroupFiles.readLong(pids.dir.resolve("pids.max"));
            pidsLimit = max == Long.MAX_VALUE ? 0 : max; // 0: no limit, as runc reports it
        }
        long periods = 0, throttled = 0, throttledNanos = 0;
        Target cpu = target("cpu");
        if (cpu != null) {
            Path stat = cpu.dir.resolve("cpu.stat");
            periods = Math.max(0, CgroupFiles.keyed(stat, "nr_periods"));
            throttled = Math.max(0, CgroupFiles.keyed(stat, "nr_throttled"));
            throttledNanos = cpu.v2 ? Math.max(0, CgroupFiles.keyed(stat, "throttled_usec")) * 1000
                    : Math.max(0, CgroupFiles.keyed(stat, "throttled_time"));
        }
        return new CgroupStats(total, user, system, usage, limit, maxUsage, inactiveFile, pidsCurrent, pidsLimit,
                periods, throttled, throttledNanos);
    }

    @Override
    public void freeze(boolean frozen) throws IOException {
        Path freezer = v1("freezer");
        Path unified = unifiedDir();
        if (freezer != null) {
            freezeV1(freezer, frozen);
        } else if (unified != null && Files.exists(unified.resolve("cgroup.freeze"))) {
            freezeV2(unified, frozen);
        } else {
            throw new IOException("cannot " + (frozen ? "freeze" : "thaw") + " container " + id
                    + ": no freezer controller and no cgroup.freeze in " + dirs.values());
        }
    }

    @Override
    public long oomKills() throws IOException {
        Target memory = target("memory");
        if (memory == null) {
            return 0;
        }
        Path file = memory.dir.resolve(memory.v2 ? "memory.events" : "memory.oom_control");
        return Math.max(0, CgroupFiles.keyed(file, "oom_kill"));
    }

    @Override
    public void destroy() throws IOException {
        Path unified = unifiedDir();
        if (unified != null && Files.exists(unified.resolve("cgroup.kill"))) {
            try {
                CgroupFiles.write(unified.resolve("cgroup.kill"), "1");
            } catch (LinuxException e) {
                if (e.errno() != Errno.ENOENT) {
                    throw e;
                }
            }
        }
        killRemaining();
        List<Path> order = new ArrayList<>(dirs.values());
        Collections.reverse(order);
        for (Path dir : order) {
            removeDir(dir);
        }
    }

    @Override
    public String toString() {
        return "cgroup of " + id + " " + dirs.values();
    }

    // ---- limits

    /** Writes the limits; {@code journal}, when given, records each file's previous value before it is changed. */
    void apply(Resources r, boolean creating, List<String[]> journal) throws IOException {
        applyMemory(r, creating, journal);
        applyCpu(r, journal);
        if (r.pidsLimit() != 0) {
            Target t = require("pids", "a pids limit");
            set(journal, t.dir, "pids.max", r.pidsLimit() < 0 ? "max" : Long.toString(r.pidsLimit()));
        }
        if (r.cpusetCpus() != null && !r.cpusetCpus().isBlank()) {
            Target t = require("cpuset", "cpuset CPUs");
            set(journal, t.dir, "cpuset.cpus", r.cpusetCpus().trim());
        }
        if (r.cpusetMems() != null && !r.cpusetMems().isBlank()) {
            Target t = require("cpuset", "cpuset memory nodes");
            set(journal, t.dir, "cpuset.mems", r.cpusetMems().trim());
        }
    }

    private void applyMemory(Resources r, boolean creating, List<String[]> journal) throws IOException {
        if (r.memory() < 0) {
            throw new IllegalArgumentException("invalid memory limit " + r.memory());
        }
        long swap = r.memorySwap() != 0 ? r.memorySwap()
                : creating && r.memory() > 0 ? CgroupValues.defaultMemorySwap(r.memory()) : 0;
        if (r.memory() == 0 && swap == 0) {
            return;
        }
        if (r.memory() > 0 && swap > 0 && swap < r.memory()) {
            throw new IllegalArgumentException("memory+swap limit " + swap + " is smaller than the memory limit " + r.memory());
        }
        Target t = require("memory", "a memory limit");
        if (t.v2) {
            if (r.memory() > 0) {
                set(journal, t.dir, "memory.max", Long.toString(r.memory()));
            }
            if (swap != 0 && Files.exists(t.dir.resolve("memory.swap.max"))) {
                long memory = r.memory() > 0 ? r.memory() : CgroupFiles.readLong(t.dir.resolve("memory.max"));
                set(journal, t.dir, "memory.swap.max", memory == Long.MAX_VALUE ? "max" : CgroupValues.swapMax(swap, memory));
            }
            return;
        }
        Path memsw = t.dir.resolve("memory.memsw.limit_in_bytes");
        boolean swapAccounted = swap != 0 && Files.exists(memsw);
        // The kernel keeps memory <= memory+swap at every step: raise memsw before memory, lower it after.
        boolean swapFirst = swapAccounted && (swap < 0 || swap > CgroupFiles.readLong(memsw));
        if (swapFirst) {
            set(journal, t.dir, "memory.memsw.limit_in_bytes", Long.toString(swap));
        }
        if (r.memory() > 0) {
            set(journal, t.dir, "memory.limit_in_bytes", Long.toString(r.memory()));
        }
        if (swapAccounted && !swapFirst) {
            set(journal, t.dir, "memory.memsw.limit_in_bytes", Long.toString(swap));
        }
    }

    private void applyCpu(Resources r, List<String[]> journal) throws IOException {
        boolean bandwidth = r.cpuQuota() != 0 || r.cpuPeriod() > 0;
        if (!bandwidth && r.cpuShares() <= 0) {
            return;
        }
        Target t = require("cpu", "a CPU limit");
        if (t.v2) {
            if (bandwidth) {
                String[] current = CgroupFiles.read(t.dir.resolve("cpu.max")).trim().split("\\s+");
                long quota = r.cpuQuota() != 0 ? r.cpuQuota() : current[0].equals("max") ? -1 : Long.parseLong(current[0]);
                long period = r.cpuPeriod() > 0 ? r.cpuPeriod()
                        : current.length > 1 ? Long.parseLong(current[1]) : CgroupValues.DEFAULT_CPU_PERIOD;
                set(journal, t.dir, "cpu.max", CgroupValues.cpuMax(quota, period));
            }
            if (r.cpuShares() > 0) {
                set(journal, t.dir, "cpu.weight", Long.toString(CgroupValues.cpuWeight(r.cpuShares())));
            }
            return;
        }
        if (r.cpuPeriod() > 0) {
            set(journal, t.dir, "cpu.cfs_period_us", Long.toString(r.cpuPeriod()));
        }
        if (r.cpuQuota() != 0) {
            set(journal, t.dir, "cpu.cfs_quota_us", Long.toString(r.cpuQuota() < 0 ? -1 : r.cpuQuota()));
        }
        if (r.cpuShares() > 0) {
            set(journal, t.dir, "cpu.shares", Long.toString(r.cpuShares()));
        }
    }

    private static void set(List<String[]> journal, Path dir, String file, String value) throws IOException {
        Path path = dir.resolve(file);
        if (journal != null) {
            String before = CgroupFiles.read(path).trim();
            CgroupFiles.write(path, value);
            journal.add(new String[]{path.toString(), before});
        } else {
            CgroupFiles.write(path, value);
        }
    }

    // ---- freezing and killing

    private void freezeV1(Path dir, boolean frozen) throws IOException {
        String want = frozen ? "FROZEN" : "THAWED";
        Path state = dir.resolve("freezer.state");
        long deadline = System.nanoTime() + FREEZE_TIMEOUT_NANOS;
        for (int round = 0; ; round++) {
            // Rewriting FROZEN catches tasks forked while the group was FREEZING.
            CgroupFiles.write(state, want);
            String now = CgroupFiles.read(state).trim();
            if (now.equals(want)) {
                return;
            }
            if (System.nanoTime() > deadline) {
                if (frozen) {
                    CgroupFiles.write(state, "THAWED");
                }
                throw new IOException("cannot " + (frozen ? "freeze" : "thaw") + " container " + id + ": " + state
                        + " still reads " + now + " after writing " + want);
            }
            pause(round);
        }
    }

    private void freezeV2(Path dir, boolean frozen) throws IOException {
        CgroupFiles.write(dir.resolve("cgroup.freeze"), frozen ? "1" : "0");
        Path events = dir.resolve("cgroup.events");
        long want = frozen ? 1 : 0;
        long deadline = System.nanoTime() + FREEZE_TIMEOUT_NANOS;
        for (int round = 0; ; round++) {
            long now = CgroupFiles.keyed(events, "frozen");
            if (now == want) {
                return;
            }
            if (System.nanoTime() > deadline) {
                if (frozen) {
                    CgroupFiles.write(dir.resolve("cgroup.freeze"), "0");
                }
                throw new IOException("cannot " + (frozen ? "freeze" : "thaw") + " container " + id + ": " + events
                        + " still reads frozen " + now);
            }
            pause(round);
        }
    }

    /**
     * SIGKILLs whatever is left until the cgroup is empty. With a v1 freezer the group is frozen around the kills so a
     * fork bomb cannot outrun them, then thawed, since a frozen task does not die until it runs again.
     */
    private void killRemaining() throws IOException {
        Path freezer = v1("freezer");
        long deadline = System.nanoTime() + KILL_TIMEOUT_NANOS;
        for (int round = 0; ; round++) {
            List<Integer> left = pids();
            if (left.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("cannot empty the cgroup of container " + id + ": processes " + left
                        + " survive SIGKILL in " + dirs.values());
            }
            if (freezer != null) {
                writeIfPresent(freezer.resolve("freezer.state"), "FROZEN");
            }
            for (int pid : left) {
                try {
                    Libc.kill(pid, SIGKILL);
                } catch (LinuxException e) {
                    if (e.errno() != Errno.ESRCH) {
                        throw e;
                    }
                }
            }
            if (freezer != null) {
                writeIfPresent(freezer.resolve("freezer.state"), "THAWED");
            }
            pause(round);
        }
    }

    /** rmdir, retried while the kernel still counts exiting tasks (EBUSY); gone already is fine. */
    private static void removeDir(Path dir) throws IOException {
        long deadline = System.nanoTime() + KILL_TIMEOUT_NANOS;
        for (int round = 0; ; round++) {
            try {
                CgroupFiles.rmdir(dir);
                return;
            } catch (LinuxException e) {
                if (e.errno() != Errno.EBUSY || System.nanoTime() > deadline) {
                    throw e;
                }
            }
            pause(round);
        }
    }

    private static void writeIfPresent(Path file, String value) throws IOException {
        try {
            CgroupFiles.write(file, value);
        } catch (LinuxException e) {
            if (e.errno() != Errno.ENOENT) {
                throw e;
            }
        }
    }

    private static void pause(int round) throws IOException {
        try {
            Thread.sleep(Math.min(1L << Math.min(round, 6), 50));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting on a cgroup");
        }
    }

    // ---- where each controller is

    private record Target(Path dir, boolean v2) {
    }

    private Path v1(String controller) {
        for (Map.Entry<Hierarchy, Path> e : dirs.entrySet()) {
            if (!e.getKey().unified() && e.getKey().carries(controller)) {
                return e.getValue();
            }
        }
        return null;
    }

    private Path unifiedDir() {
        for (Map.Entry<Hierarchy, Path> e : dirs.entrySet()) {
            if (e.getKey().unified()) {
                return e.getValue();
            }
        }
        return null;
    }

    /** The directory in which this controller's files are: its v1 hierarchy, or the cgroup2 group if enabled there. */
    private Target target(String controller) throws IOException {
        Path v1 = v1(controller);
        if (v1 != null) {
            return new Target(v1, false);
        }
        Path unified = unifiedDir();
        if (unified != null) {
            String enabled = CgroupFiles.readIfExists(unified.resolve("cgroup.controllers"));
            if (enabled != null && List.of(enabled.split("\\s+")).contains(controller)) {
                return new Target(unified, true);
            }
        }
        return null;
    }

    private Target require(String controller, String purpose) throws IOException {
        Target t = target(controller);
        if (t != null) {
            return t;
        }
        Path unified = unifiedDir();
        throw new IOException("cannot set " + purpose + " for container " + id + ": the " + controller
                + " controller is not available (no cgroup v1 hierarchy carries it"
                + (unified == null ? "" : " and " + unified.resolve("cgroup.controllers") + " does not list it") + ")");
    }

    private static long hostMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }
}
