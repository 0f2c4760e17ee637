package dev.berth.node.cgroup;

import java.io.IOException;
import java.util.List;

/**
 * Control groups for containers on cgroup v1, v2 or hybrid hosts: each controller is found where it is mounted
 * (from /proc/self/mountinfo), never assumed.
 *
 * <p>Failure modes: {@link IOException} naming the file and the value the kernel refused (e.g. a memory limit below
 * current usage); a failed {@link #create} leaves no directory behind.
 */
public interface CgroupManager {

    /** Creates the container's cgroup(s) under the node's parent group and applies the limits. */
    Cgroup create(String containerId, Resources resources) throws IOException;

    /** Finds the cgroup of an existing container (after an agent restart), or null. */
    Cgroup find(String containerId) throws IOException;

    /** Which layout this host has: "v1", "v2" or "hybrid" (v1 controllers plus a cgroup2 mount). */
    String mode();

    /**
     * Removes the node's parent group from every hierarchy (when a node is decommissioned, or a test is done with its
     * own parent group). No error if it is already gone.
     *
     * @throws IOException if a container's group is still under it (rmdir fails with EBUSY), naming the directory
     */
    void removeParent() throws IOException;

    /** A container's cgroup, across all the hierarchies that carry its controllers. */
    interface Cgroup {
        /** The files to which a PID is written to move a process into this cgroup (cgroup.procs of each hierarchy). */
        List<String> procsFiles();

        /** Adds a process (all its threads) to the cgroup. */
        void addProcess(int pid) throws IOException;

        /**
         * Changes limits on a live cgroup (docker update). If the kernel refuses a value, the limits already changed
         * by this call are put back and the IOException names the file and the value.
         */
        void update(Resources resources) throws IOException;

        /** PIDs of every process in the cgroup. */
        List<Integer> pids() throws IOException;

        /** Usage figures for stats. */
        CgroupStats stats() throws IOException;

        /** Freezes (pause) or thaws (unpause) every process in it; returns when the state is reached. */
        void freeze(boolean frozen) throws IOException;

        /** Number of OOM kills seen in this cgroup (memory.events oom_kill on v2, memory.oom_control on v1). */
        long oomKills() throws IOException;

        /** Kills every process left (SIGKILL) and removes the directories; no error if already gone. */
        void destroy() throws IOException;
    }

    /**
     * Limits as the Engine API names them; 0 or null means "not set". As Docker does, a memory limit without
     * memorySwap gets twice the memory as memory+swap when the cgroup is created; -1 for memorySwap, cpuQuota or
     * pidsLimit means unlimited (and removes the limit on update).
     *
     * @param memory       bytes (HostConfig.Memory)
     * @param memorySwap   bytes of memory+swap, -1 unlimited (HostConfig.MemorySwap)
     * @param cpuQuota     microseconds per period (HostConfig.CpuQuota, or NanoCpus converted)
     * @param cpuPeriod    microseconds (default 100000)
     * @param cpuShares    relative weight (HostConfig.CpuShares; on v2 converted to cpu.weight)
     * @param pidsLimit    max processes, 0 or -1 unlimited
     * @param cpusetCpus   e.g. "0-1", or null
     * @param cpusetMems   e.g. "0", or null
     */
    record Resources(long memory, long memorySwap, long cpuQuota, long cpuPeriod, long cpuShares, long pidsLimit,
                     String cpusetCpus, String cpusetMems) {
        public static final Resources NONE = new Resources(0, 0, 0, 0, 0, 0, null, null);
    }

    /**
     * Figures the Engine API's stats endpoint needs (cpu in nanoseconds, memory in bytes). A memory limit above the
     * machine's memory (no limit) is reported as the machine's memory, as Docker does; a pids limit of 0 means none.
     * The throttling figures (Docker's cpu_stats.throttling_data) count CFS periods and the time the group was held
     * back by its CPU quota.
     */
    record CgroupStats(long cpuTotalNanos, long cpuUserNanos, long cpuSystemNanos, long memoryUsage, long memoryLimit,
                       long memoryMaxUsage, long inactiveFile, long pidsCurrent, long pidsLimit,
                       long cpuPeriods, long cpuThrottledPeriods, long cpuThrottledNanos) {
    }
}
