package dev.berth.node.cgroup;

/** Conversions between the Engine API's resource numbers and what the cgroup files take. */
final class CgroupValues {

    /** Docker's CPU period when only a quota (or NanoCpus) is given. */
    static final long DEFAULT_CPU_PERIOD = 100_000;

    private CgroupValues() {
    }

    /**
     * cpu.weight (1..10000) for v1 cpu.shares (2..262144), the mapping runc uses so that the default 1024 shares give
     * about the v2 default weight 100 relative to other containers: {@code 1 + ((shares - 2) * 9999) / 262142}.
     */
    static long cpuWeight(long shares) {
        long clamped = Math.max(2, Math.min(262_144, shares));
        return 1 + ((clamped - 2) * 9999) / 262_142;
    }

    /**
     * The cgroup v2 cpu.max line: "quota period", where a quota of -1 (or none) is "max".
     *
     * @param quota  microseconds per period, -1 for no limit
     * @param period microseconds
     */
    static String cpuMax(long quota, long period) {
        return (quota > 0 ? Long.toString(quota) : "max") + " " + period;
    }

    /**
     * The memory+swap limit Docker gives when only a memory limit is set: twice the memory (as much swap as memory).
     */
    static long defaultMemorySwap(long memory) {
        return memory * 2;
    }

    /** cgroup v2 memory.swap.max: the swap alone, from Docker's memory+swap figure (-1 = unlimited). */
    static String swapMax(long memorySwap, long memory) {
        if (memorySwap < 0) {
            return "max";
        }
        return Long.toString(Math.max(0, memorySwap - memory));
    }
}
