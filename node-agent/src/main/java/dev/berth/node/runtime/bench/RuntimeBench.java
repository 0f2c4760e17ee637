package dev.berth.node.runtime.bench;

import dev.berth.node.cgroup.FsCgroupManager;
import dev.berth.node.runtime.ContainerSpec;
import dev.berth.node.runtime.ContainerState;
import dev.berth.node.runtime.ShimRuntime;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.UUID;

/**
 * Times {@code /bin/true} through the runtime API, from a spec to the process running (create + start) and to its
 * exit being recorded, then the removal; prints the medians. Driven by bench/runtime/run.sh, which runs
 * {@code runc run} of the same rootfs beside it.
 *
 * <p>Arguments: rootfs-dir shim state-root run-root iterations [cgroups: true|false]
 */
public final class RuntimeBench {
    private RuntimeBench() {
    }

    public static void main(String[] args) throws Exception {
        Path rootfs = Path.of(args[0]);
        int n = Integer.parseInt(args[4]);
        boolean withCgroups = args.length < 6 || Boolean.parseBoolean(args[5]);
        FsCgroupManager cgroups = withCgroups ? FsCgroupManager.detect("berth-bench-" + UUID.randomUUID().toString().substring(0, 8)) : null;
        ShimRuntime rt = new ShimRuntime(new ShimRuntime.Config(Path.of(args[2]), Path.of(args[3]), Path.of(args[1])),
                null, cgroups, null);
        int warmup = Math.max(3, n / 10);
        long[] running = new long[n], exited = new long[n], removed = new long[n];
        try {
            for (int i = -warmup; i < n; i++) {
                String id = UUID.randomUUID().toString().replace("-", "") + UUID.randomUUID().toString().replace("-", "");
                ContainerSpec spec = ContainerSpec.builder().rootfs(rootfs).cmd("/bin/true").build();
                long t0 = System.nanoTime();
                rt.create(id, spec);
                rt.start(id);
                long t1 = System.nanoTime();
                ContainerState st = rt.waitForExit(id, Duration.ofSeconds(60));
                long t2 = System.nanoTime();
                if (st.running() || st.exitCode() != 0) {
                    throw new IllegalStateException("run " + i + " ended as " + st);
                }
                rt.remove(id, false);
                long t3 = System.nanoTime();
                if (i >= 0) {
                    running[i] = t1 - t0;
                    exited[i] = t2 - t0;
                    removed[i] = t3 - t2;
                }
            }
        } finally {
            rt.close();
            if (cgroups != null) {
                cgroups.removeParent();
            }
        }
        System.out.printf("RESULT n=%d cgroups=%s running_ms=%.2f exited_ms=%.2f remove_ms=%.2f%n", n, withCgroups,
                median(running), median(exited), median(removed));
    }

    private static double median(long[] nanos) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        double m = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
        return m / 1e6;
    }
}
