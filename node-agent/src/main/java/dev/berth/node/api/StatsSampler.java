package dev.berth.node.api;

import dev.berth.node.cgroup.CgroupManager;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Builds Docker's stats JSON ({@code GET /containers/{id}/stats}) from the container's cgroup and /proc. */
final class StatsSampler {
    /** USER_HZ: /proc/stat counts in 1/100 s on Linux. */
    private static final long NANOS_PER_TICK = 10_000_000L;

    /** One sample: when it was taken, the cgroup figures, the host's CPU time, the network counters. */
    record Sample(Instant read, CgroupManager.CgroupStats cgroup, long systemCpuNanos, int onlineCpus,
                  Map<String, Map<String, Long>> networks) {
    }

    private StatsSampler() {
    }

    static Sample sample(CgroupManager.CgroupStats cg, int pid) throws IOException {
        return new Sample(Instant.now(), cg, systemCpuNanos(), Runtime.getRuntime().availableProcessors(),
                pid > 0 ? networks(pid) : Map.of());
    }

    /** Sum of the host's CPU times (the first line of /proc/stat) in nanoseconds, as Docker's system_cpu_usage. */
    static long systemCpuNanos() throws IOException {
        String first = read(Path.of("/proc/stat")).lines().findFirst().orElse("");
        long ticks = 0;
        String[] f = first.trim().split("\\s+");
        for (int i = 1; i < f.length && i <= 8; i++) {
            ticks += Long.parseLong(f[i]);
        }
        return ticks * NANOS_PER_TICK;
    }

    /** Interface counters of the process's network namespace (/proc/PID/net/dev), loopback left out as Docker does. */
    static Map<String, Map<String, Long>> networks(int pid) {
        Map<String, Map<String, Long>> out = new LinkedHashMap<>();
        String text;
        try {
            text = read(Path.of("/proc", Integer.toString(pid), "net", "dev"));
        } catch (IOException e) {
            return out;
        }
        for (String line : text.lines().skip(2).toList()) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = line.substring(0, colon).trim();
            if (name.equals("lo")) {
                continue;
            }
            String[] v = line.substring(colon + 1).trim().split("\\s+");
            Map<String, Long> m = new LinkedHashMap<>();
            m.put("rx_bytes", Long.parseLong(v[0]));
            m.put("rx_packets", Long.parseLong(v[1]));
            m.put("rx_errors", Long.parseLong(v[2]));
            m.put("rx_dropped", Long.parseLong(v[3]));
            m.put("tx_bytes", Long.parseLong(v[8]));
            m.put("tx_packets", Long.parseLong(v[9]));
            m.put("tx_errors", Long.parseLong(v[10]));
            m.put("tx_dropped", Long.parseLong(v[11]));
            out.put(name, m);
        }
        return out;
    }

    private static String read(Path p) throws IOException {
        // proc files report size 0: read them as a stream
        try (InputStream in = Files.newInputStream(p)) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    /** Docker's stats object for the current sample, with {@code pre} (or an empty one) as precpu_stats. */
    static Map<String, Object> json(String id, String name, Sample now, Sample pre, boolean cgroupV2) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("id", id);
        m.put("read", now.read().toString());
        m.put("preread", pre == null ? "0001-01-01T00:00:00Z" : pre.read().toString());
        CgroupManager.CgroupStats c = now.cgroup();
        m.put("pids_stats", Map.of("current", c.pidsCurrent(), "limit", c.pidsLimit() > 0 ? c.pidsLimit() : 0));
        Map<String, Object> blkio = new LinkedHashMap<>();
        for (String k : List.of("io_service_bytes_recursive", "io_serviced_recursive", "io_queue_recursive",
                "io_service_time_recursive", "io_wait_time_recursive", "io_merged_recursive", "io_time_recursive",
                "sectors_recursive")) {
            blkio.put(k, null);
        }
        m.put("blkio_stats", blkio);
        m.put("num_procs", 0);
        m.put("storage_stats", Map.of());
        m.put("cpu_stats", cpu(now));
        m.put("precpu_stats", pre == null ? emptyCpu() : cpu(pre));
        Map<String, Object> mem = new LinkedHashMap<>();
        mem.put("usage", c.memoryUsage());
        if (!cgroupV2) {
            mem.put("max_usage", c.memoryMaxUsage());
        }
        mem.put("stats", Map.of(cgroupV2 ? "inactive_file" : "total_inactive_file", c.inactiveFile()));
        mem.put("limit", c.memoryLimit());
        m.put("memory_stats", mem);
        m.put("networks", now.networks());
        return m;
    }

    private static Map<String, Object> cpu(Sample s) {
        CgroupManager.CgroupStats c = s.cgroup();
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put("total_usage", c.cpuTotalNanos());
        usage.put("usage_in_kernelmode", c.cpuSystemNanos());
        usage.put("usage_in_usermode", c.cpuUserNanos());
        Map<String, Object> cpu = new LinkedHashMap<>();
        cpu.put("cpu_usage", usage);
        cpu.put("system_cpu_usage", s.systemCpuNanos());
        cpu.put("online_cpus", s.onlineCpus());
        cpu.put("throttling_data", Map.of("periods", c.cpuPeriods(), "throttled_periods", c.cpuThrottledPeriods(),
                "throttled_time", c.cpuThrottledNanos()));
        return cpu;
    }

    private static Map<String, Object> emptyCpu() {
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put("total_usage", 0);
        usage.put("usage_in_kernelmode", 0);
        usage.put("usage_in_usermode", 0);
        Map<String, Object> cpu = new LinkedHashMap<>();
        cpu.put("cpu_usage", usage);
        cpu.put("throttling_data", Map.of("periods", 0, "throttled_periods", 0, "throttled_time", 0));
        return cpu;
    }
}
