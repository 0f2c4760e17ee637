package dev.berth.node.cgroup;

import dev.berth.node.cgroup.CgroupManager.Cgroup;
import dev.berth.node.cgroup.CgroupManager.CgroupStats;
import dev.berth.node.cgroup.CgroupManager.Resources;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The manager on this host's real cgroups (hybrid: v1 controllers plus a cgroup2 mount). */
class FsCgroupManagerTest {
    private static final long MB = 1024 * 1024;

    private static FsCgroupManager manager;
    private static String parent;
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @BeforeAll
    static void setUp() throws IOException {
        parent = "berth-test-" + UUID.randomUUID().toString().substring(0, 8);
        manager = FsCgroupManager.detect(parent);
    }

    @AfterAll
    static void tearDown() throws IOException {
        Map<Hierarchy, Path> parents = manager.parentDirs();
        manager.removeParent();
        for (Path dir : parents.values()) {
            assertThat(dir).doesNotExist();
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    private Cgroup create(Resources resources) throws IOException {
        String id = "c" + UUID.randomUUID().toString().replace("-", "");
        Cgroup cg = manager.create(id, resources);
        cleanup.add(cg::destroy);
        return cg;
    }

    private Workload run(Cgroup cg, String script) throws Exception {
        Workload w = Workload.startIn(cg, script);
        cleanup.add(w);
        await().atMost(Duration.ofSeconds(10)).until(() -> cg.pids().contains(w.pid()) || !w.isAlive());
        if (!w.isAlive()) {
            assertThat(w.waitFor(Duration.ZERO)).as("workload exited early; stderr: %s", w.stderr()).isNotEqualTo(Workload.JOIN_FAILED);
        } else {
            assertThat(cg.pids()).as("workload joined the cgroup").contains(w.pid());
        }
        return w;
    }

    private static Path dir(Cgroup cg, String controller) {
        return ((FsCgroup) cg).dirs().entrySet().stream()
                .filter(e -> e.getKey().carries(controller) && !e.getKey().unified())
                .map(Map.Entry::getValue).findFirst().orElseThrow();
    }

    private static String file(Cgroup cg, String controller, String name) throws IOException {
        return Files.readString(dir(cg, controller).resolve(name)).trim();
    }

    @Test
    void detectsHybridLayoutWithEveryMountedV1Controller() throws IOException {
        CgroupLayout layout = manager.layout();
        assertThat(manager.mode()).isEqualTo("hybrid");

        // /proc/cgroups numbers the hierarchy of every v1-bound controller; 0 means cgroup2 or unbound.
        List<String> v1 = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/cgroups"))) {
            String[] f = line.split("\\s+");
            if (!line.startsWith("#") && !f[1].equals("0") && f[3].equals("1")) {
                v1.add(f[0]);
            }
        }
        assertThat(v1).contains("memory", "cpu", "pids");
        for (String controller : v1) {
            Hierarchy h = layout.carrying(controller);
            assertThat(h).as(controller).isNotNull();
            assertThat(h.unified()).isFalse();
            assertThat(h.ownDir().resolve("cgroup.procs")).exists();
        }
        assertThat(layout.hierarchies()).noneMatch(h -> h.controllers().stream().anyMatch(c -> c.startsWith("name=")));

        Hierarchy unified = layout.unified();
        assertThat(unified).isNotNull();
        String offered = Files.readString(unified.mountPoint().resolve("cgroup.controllers")).trim();
        assertThat(unified.controllers()).containsExactlyInAnyOrder(offered.isEmpty() ? new String[0] : offered.split(" "));
        assertThat(unified.controllers()).isNotEmpty().doesNotContainAnyElementsOf(v1);

        // The agent (this JVM) sits in a nested memory cgroup: the layout knows where.
        String self = Files.readAllLines(Path.of("/proc/self/cgroup")).stream()
                .filter(l -> l.split(":")[1].equals("memory")).findFirst().orElseThrow().split(":", 3)[2];
        assertThat("/" + layout.carrying("memory").ownPath()).isEqualTo(self.equals("/") ? "/" : self);
    }

    @Test
    void groupIsMadeInEveryHierarchyFoundAgainAndRemoved() throws Exception {
        String id = "c" + UUID.randomUUID().toString().replace("-", "");
        Cgroup cg = manager.create(id, Resources.NONE);
        cleanup.add(cg::destroy);
        for (String controller : List.of("memory", "cpu", "cpuacct", "cpuset", "pids", "freezer", "devices")) {
            assertThat(dir(cg, controller)).isEqualTo(manager.layout().carrying(controller).mountPoint().resolve(parent).resolve(id));
        }
        assertThat(cg.procsFiles()).hasSize(manager.parentDirs().size())
                .anyMatch(f -> f.startsWith(manager.layout().unified().mountPoint().toString()))
                .allMatch(f -> Files.exists(Path.of(f)));
        // A new cpuset group got its parent's CPUs, or it could not take a task.
        assertThat(file(cg, "cpuset", "cpuset.cpus")).isNotEmpty()
                .isEqualTo(Files.readString(manager.layout().carrying("cpuset").mountPoint().resolve("cpuset.cpus")).trim());

        // After an agent restart: a new manager over the same parent finds it.
        FsCgroupManager restarted = FsCgroupManager.detect(parent);
        Cgroup found = restarted.find(id);
        assertThat(found).isNotNull();
        assertThat(found.procsFiles()).containsExactlyElementsOf(cg.procsFiles());
        assertThat(restarted.find("c-none")).isNull();

        found.destroy();
        for (String f : cg.procsFiles()) {
            assertThat(Path.of(f).getParent()).doesNotExist();
        }
        assertThat(manager.find(id)).isNull();
        cg.destroy(); // already gone: no error
    }

    @Test
    void processesInTheGroupAreListed() throws Exception {
        Cgroup cg = create(Resources.NONE);
        Workload self = run(cg, "sleep 1000 & sleep 1000 & wait");
        await().atMost(Duration.ofSeconds(10)).until(() -> cg.pids().size() == 3);

        Process outside = new ProcessBuilder("sleep", "1000").start();
        cleanup.add(() -> { outside.destroyForcibly(); outside.waitFor(); });
        assertThat(cg.pids()).doesNotContain((int) outside.pid());
        cg.addProcess((int) outside.pid());
        assertThat(cg.pids()).contains((int) outside.pid(), self.pid()).hasSize(4);
        for (String procs : cg.procsFiles()) {
            assertThat(Files.readAllLines(Path.of(procs))).contains(Long.toString(outside.pid()));
        }
    }

    @Test
    void memoryHogIsOomKilledAndCounted() throws Exception {
        Cgroup cg = create(new Resources(16 * MB, 0, 0, 0, 0, 0, null, null));
        assertThat(Long.parseLong(file(cg, "memory", "memory.limit_in_bytes"))).isEqualTo(16 * MB);
        // Docker's default: as much swap as memory.
        assertThat(Long.parseLong(file(cg, "memory", "memory.memsw.limit_in_bytes"))).isEqualTo(32 * MB);
        assertThat(cg.oomKills()).isZero();

        Workload hog = run(cg, "x=0123456789abcdef; while :; do x=$x$x; done");
        int status = hog.waitFor(Duration.ofSeconds(60));
        assertThat(status).as("killed by SIGKILL").isEqualTo(128 + 9);
        assertThat(cg.oomKills()).isGreaterThanOrEqualTo(1);
        assertThat(cg.stats().memoryMaxUsage()).isLessThanOrEqualTo(16 * MB).isGreaterThan(8 * MB);
    }

    @Test
    void forkBombIsHeldByPidsLimit() throws Exception {
        long limit = 20;
        Cgroup cg = create(new Resources(0, 0, 0, 0, 0, limit, null, null));
        Workload bomb = run(cg, "b() { b | b & }; b; wait");
        long peak = 0;
        long end = System.nanoTime() + Duration.ofSeconds(2).toNanos();
        while (System.nanoTime() < end) {
            CgroupStats s = cg.stats();
            peak = Math.max(peak, s.pidsCurrent());
            assertThat(s.pidsCurrent()).isLessThanOrEqualTo(limit);
            assertThat(s.pidsLimit()).isEqualTo(limit);
        }
        assertThat(peak).as("the bomb grew").isGreaterThanOrEqualTo(limit / 2);
        assertThat(bomb.stderr()).contains("can't fork");
        // pids.events counts the forks refused at the limit.
        assertThat(Long.parseLong(file(cg, "pids", "pids.events").split(" ")[1])).isPositive();

        List<Integer> inside = cg.pids();
        cg.destroy();
        assertThat(inside).noneMatch(Workload::running);
        assertThat(cg.procsFiles()).noneMatch(f -> Files.exists(Path.of(f)));
    }

    @Test
    void halfACpuHoldsABusyLoopNearHalfACore() throws Exception {
        // The highest weight, for the test's parent group as well (weights only count among siblings), lets the
        // loops win against whatever else runs on a shared machine: the quota, not the competition, then holds them.
        Path parentShares = manager.parentDirs().get(manager.layout().carrying("cpu")).resolve("cpu.shares");
        Files.writeString(parentShares, "262144");
        cleanup.add(() -> Files.writeString(parentShares, "1024"));
        Cgroup cg = create(new Resources(0, 0, 50_000, 100_000, 262_144, 0, null, null));
        assertThat(file(cg, "cpu", "cpu.shares")).isEqualTo("262144");
        assertThat(file(cg, "cpu", "cpu.cfs_quota_us")).isEqualTo("50000");
        assertThat(file(cg, "cpu", "cpu.cfs_period_us")).isEqualTo("100000");
        // Two spinning loops could take two cores; the quota holds both together to half of one.
        run(cg, "while :; do :; done & while :; do :; done");
        Thread.sleep(300);
        CgroupStats s0 = cg.stats();
        long t0 = System.nanoTime();
        Thread.sleep(4000);
        CgroupStats s1 = cg.stats();
        long t1 = System.nanoTime();
        double cores = (double) (s1.cpuTotalNanos() - s0.cpuTotalNanos()) / (t1 - t0);
        assertThat(cores).isBetween(0.3, 0.7);
        // The kernel's own account: never more than the quota per period, and the quota is what held the loops back.
        long periods = s1.cpuPeriods() - s0.cpuPeriods();
        assertThat(s1.cpuTotalNanos() - s0.cpuTotalNanos()).isLessThanOrEqualTo((periods + 2) * 50_000_000L);
        assertThat(s1.cpuThrottledPeriods()).isGreaterThan(s0.cpuThrottledPeriods());
        assertThat(s1.cpuThrottledNanos()).isGreaterThan(s0.cpuThrottledNanos());
        assertThat(s1.cpuUserNanos() + s1.cpuSystemNanos()).isGreaterThan(0);
    }

    @Test
    void frozenGroupMakesNoProgressUntilThawed() throws Exception {
        Cgroup cg = create(Resources.NONE);
        Workload spin = run(cg, "while :; do :; done");
        Thread.sleep(200);

        cg.freeze(true);
        assertThat(file(cg, "freezer", "freezer.state")).isEqualTo("FROZEN");
        long frozen0 = cg.stats().cpuTotalNanos();
        Thread.sleep(1000);
        long frozen1 = cg.stats().cpuTotalNanos();
        assertThat(frozen1 - frozen0).as("cpu used while frozen (ns)").isLessThan(5_000_000);
        assertThat(spin.isAlive()).isTrue();

        cg.freeze(false);
        assertThat(file(cg, "freezer", "freezer.state")).isEqualTo("THAWED");
        long thawed0 = cg.stats().cpuTotalNanos();
        Thread.sleep(1000);
        assertThat(cg.stats().cpuTotalNanos() - thawed0).as("cpu used after thaw (ns)").isGreaterThan(100_000_000);
    }

    @Test
    void destroyKillsAFrozenProcessTreeAndLeavesNothing() throws Exception {
        Cgroup cg = manager.create("c" + UUID.randomUUID().toString().replace("-", ""), Resources.NONE);
        Workload tree = run(cg, "sleep 1000 & (sleep 1000 & wait) & while :; do :; done");
        await().atMost(Duration.ofSeconds(10)).until(() -> cg.pids().size() >= 4);
        List<Integer> pids = cg.pids();
        cg.freeze(true);

        cg.destroy();
        assertThat(tree.waitFor(Duration.ofSeconds(10))).isEqualTo(128 + 9);
        assertThat(pids).noneMatch(Workload::running);
        for (String f : cg.procsFiles()) {
            assertThat(Path.of(f).getParent()).doesNotExist();
        }
    }

    @Test
    void refusedValueNamesFileAndValueAndLeavesNoDirectory() throws Exception {
        String id = "c" + UUID.randomUUID().toString().replace("-", "");
        assertThatThrownBy(() -> manager.create(id, new Resources(0, 0, 0, 0, 0, 0, "99", null)))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("cpuset.cpus").hasMessageContaining("\"99\"").hasMessageContaining("failed: E");
        assertThat(manager.find(id)).isNull();
        for (Path p : manager.parentDirs().values()) {
            assertThat(p.resolve(id)).doesNotExist();
        }

        // A quota below the kernel's 1 ms minimum is refused too, after other limits were written.
        assertThatThrownBy(() -> manager.create(id, new Resources(64 * MB, 0, 10, 100_000, 0, 10, null, null)))
                .isInstanceOf(IOException.class).hasMessageContaining("cpu.cfs_quota_us").hasMessageContaining("\"10\"");
        assertThat(manager.find(id)).isNull();

        assertThatThrownBy(() -> manager.create(id, new Resources(64 * MB, 32 * MB, 0, 0, 0, 0, null, null)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("smaller than the memory limit");
        assertThat(manager.find(id)).isNull();

        assertThatThrownBy(() -> manager.create("../escape", Resources.NONE)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void existingGroupIsNotTakenOverNorRemovedByAFailedCreate() throws Exception {
        Cgroup cg = create(Resources.NONE);
        String id = Path.of(cg.procsFiles().get(0)).getParent().getFileName().toString();
        assertThatThrownBy(() -> manager.create(id, Resources.NONE))
                .isInstanceOf(IOException.class).hasMessageContaining("already exists");
        assertThat(cg.procsFiles()).allMatch(f -> Files.exists(Path.of(f)));
    }

    @Test
    void statsAndUpdateShowTheLimits() throws Exception {
        Cgroup cg = create(new Resources(64 * MB, -1, 0, 0, 512, 50, "0", "0"));
        assertThat(file(cg, "cpu", "cpu.shares")).isEqualTo("512");
        assertThat(file(cg, "cpuset", "cpuset.cpus")).isEqualTo("0");
        assertThat(file(cg, "memory", "memory.memsw.limit_in_bytes")).isEqualTo(Long.toString(Long.MAX_VALUE / 4096 * 4096));
        // dd fills an 8 MB buffer, then blocks writing it to a pipe nobody reads: the buffer stays resident.
        run(cg, "dd if=/dev/zero bs=8M count=1 2>/dev/null | sleep 1000");
        await().atMost(Duration.ofSeconds(10)).until(() -> cg.stats().memoryUsage() > 4 * MB);

        CgroupStats s = cg.stats();
        assertThat(s.memoryLimit()).isEqualTo(64 * MB);
        assertThat(s.memoryMaxUsage()).isGreaterThanOrEqualTo(s.memoryUsage());
        assertThat(s.pidsCurrent()).isGreaterThanOrEqualTo(1);
        assertThat(s.pidsLimit()).isEqualTo(50);
        assertThat(s.cpuTotalNanos()).isGreaterThan(0);

        cg.update(new Resources(128 * MB, 256 * MB, 25_000, 0, 0, -1, "0-1", null));
        assertThat(file(cg, "memory", "memory.limit_in_bytes")).isEqualTo(Long.toString(128 * MB));
        assertThat(file(cg, "memory", "memory.memsw.limit_in_bytes")).isEqualTo(Long.toString(256 * MB));
        assertThat(file(cg, "cpu", "cpu.cfs_quota_us")).isEqualTo("25000");
        assertThat(file(cg, "pids", "pids.max")).isEqualTo("max");
        assertThat(file(cg, "cpuset", "cpuset.cpus")).isEqualTo("0-1");
        assertThat(cg.stats().pidsLimit()).isZero();
        assertThat(cg.stats().memoryLimit()).isEqualTo(128 * MB);

        // Lowering both: the memory limit goes down before memory+swap.
        cg.update(new Resources(48 * MB, 48 * MB, -1, 0, 0, 0, null, null));
        assertThat(file(cg, "memory", "memory.limit_in_bytes")).isEqualTo(Long.toString(48 * MB));
        assertThat(file(cg, "memory", "memory.memsw.limit_in_bytes")).isEqualTo(Long.toString(48 * MB));
        assertThat(file(cg, "cpu", "cpu.cfs_quota_us")).isEqualTo("-1");

        // The kernel refuses a limit below what the group already uses when nothing can be reclaimed.
        assertThatThrownBy(() -> cg.update(new Resources(64 * 1024, 0, 0, 0, 0, 0, null, null)))
                .isInstanceOf(IOException.class).hasMessageContaining("memory.limit_in_bytes");
    }

    @Test
    void refusedUpdatePutsBackWhatItHadChanged() throws Exception {
        Cgroup cg = create(new Resources(64 * MB, 0, 50_000, 100_000, 0, 30, null, null));
        run(cg, "sleep 1000");
        assertThatThrownBy(() -> cg.update(new Resources(256 * MB, 512 * MB, 20_000, 0, 0, 40, "99", null)))
                .isInstanceOf(IOException.class).hasMessageContaining("cpuset.cpus");
        assertThat(file(cg, "memory", "memory.limit_in_bytes")).isEqualTo(Long.toString(64 * MB));
        assertThat(file(cg, "memory", "memory.memsw.limit_in_bytes")).isEqualTo(Long.toString(128 * MB));
        assertThat(file(cg, "cpu", "cpu.cfs_quota_us")).isEqualTo("50000");
        assertThat(file(cg, "pids", "pids.max")).isEqualTo("30");
    }

    @Test
    void devicesOutsideDockersDefaultListCannotBeOpened() throws Exception {
        Path tmp = Files.createTempDirectory("berth-cgroup-dev");
        cleanup.add(() -> { Files.deleteIfExists(tmp.resolve("kmsg")); Files.deleteIfExists(tmp); });
        Process mknod = new ProcessBuilder("mknod", tmp.resolve("kmsg").toString(), "c", "1", "11").start();
        assertThat(mknod.waitFor()).isZero();

        Cgroup cg = create(Resources.NONE);
        assertThat(file(cg, "devices", "devices.list")).contains("c 1:3 rwm").doesNotContain("a *:* rwm");
        Workload w = run(cg, "sleep 0.3; echo ok > /dev/null && echo null-ok >&2; head -c 0 " + tmp.resolve("kmsg") + "; exit 0");
        assertThat(w.waitFor(Duration.ofSeconds(10))).isZero();
        assertThat(w.stderr()).contains("null-ok").contains("Operation not permitted");
    }
}
