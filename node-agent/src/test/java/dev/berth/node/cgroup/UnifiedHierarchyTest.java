package dev.berth.node.cgroup;

import dev.berth.node.cgroup.CgroupManager.Cgroup;
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
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The cgroup v2 code path on this host's real cgroup2 mount, taken alone as a pure-v2 layout. Its controllers are
 * bound to v1 hierarchies here (cgroup2 offers only hugetlb), so limits cannot take effect; what cgroup2 itself gives
 * is exercised for real: delegation through subtree_control, cgroup.procs, cpu.stat, cgroup.freeze, cgroup.kill,
 * removal, and the refusal of a limit whose controller is missing.
 */
class UnifiedHierarchyTest {
    private static FsCgroupManager manager;
    private static Hierarchy unified;
    private static Set<String> rootDelegatedBefore;
    private final List<AutoCloseable> cleanup = new ArrayList<>();

    @BeforeAll
    static void setUp() throws IOException {
        unified = CgroupLayout.detect().unified();
        assertThat(unified).as("a cgroup2 mount").isNotNull();
        rootDelegatedBefore = words(unified.mountPoint().resolve("cgroup.subtree_control"));
        manager = new FsCgroupManager(new CgroupLayout(List.of(unified)),
                "berth-test-v2-" + UUID.randomUUID().toString().substring(0, 8));
    }

    @AfterAll
    static void tearDown() throws IOException {
        Path parent = manager.parentDirs().get(unified);
        manager.removeParent();
        assertThat(parent).doesNotExist();
        // Give the host's cgroup2 root back its delegation as it was.
        Path rootControl = unified.mountPoint().resolve("cgroup.subtree_control");
        for (String c : words(rootControl)) {
            if (!rootDelegatedBefore.contains(c)) {
                Files.writeString(rootControl, "-" + c);
            }
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            cleanup.get(i).close();
        }
    }

    private static Set<String> words(Path file) throws IOException {
        String text = Files.readString(file).trim();
        return text.isEmpty() ? Set.of() : Set.of(text.split("\\s+"));
    }

    private Cgroup create(Resources resources) throws IOException {
        Cgroup cg = manager.create("c" + UUID.randomUUID().toString().replace("-", ""), resources);
        cleanup.add(cg::destroy);
        return cg;
    }

    private Workload run(Cgroup cg, String script) throws Exception {
        Workload w = Workload.startIn(cg, script);
        cleanup.add(w);
        await().atMost(Duration.ofSeconds(10)).until(() -> cg.pids().contains(w.pid()));
        return w;
    }

    private static Path dir(Cgroup cg) {
        return Path.of(cg.procsFiles().get(0)).getParent();
    }

    @Test
    void pureUnifiedLayoutIsV2AndDelegatesEveryOfferedController() throws Exception {
        assertThat(manager.mode()).isEqualTo("v2");
        Cgroup cg = create(Resources.NONE);
        assertThat(cg.procsFiles()).containsExactly(
                manager.parentDirs().get(unified).resolve(dir(cg).getFileName()).resolve("cgroup.procs").toString());
        Set<String> offered = words(unified.mountPoint().resolve("cgroup.controllers"));
        assertThat(offered).isNotEmpty();
        assertThat(words(dir(cg).resolve("cgroup.controllers"))).isEqualTo(offered);
        assertThat(words(manager.parentDirs().get(unified).resolve("cgroup.subtree_control"))).isEqualTo(offered);
    }

    @Test
    void processIsListedAndItsCpuCountedFromCpuStat() throws Exception {
        Cgroup cg = create(Resources.NONE);
        Workload spin = run(cg, "sleep 1000 & while :; do :; done");
        await().atMost(Duration.ofSeconds(10)).until(() -> cg.pids().size() == 2);
        assertThat(cg.pids()).contains(spin.pid());
        await().atMost(Duration.ofSeconds(10)).until(() -> cg.stats().cpuTotalNanos() > 50_000_000);
        CgroupManager.CgroupStats s = cg.stats();
        assertThat(s.cpuUserNanos() + s.cpuSystemNanos()).isGreaterThan(0);
        assertThat(s.memoryLimit()).as("no memory controller here").isZero();
        assertThat(cg.oomKills()).isZero();
    }

    @Test
    void cgroupFreezeStopsProgressAndThawResumesIt() throws Exception {
        Cgroup cg = create(Resources.NONE);
        run(cg, "while :; do :; done");
        Thread.sleep(200);

        cg.freeze(true);
        assertThat(Files.readString(dir(cg).resolve("cgroup.events"))).contains("frozen 1");
        long frozen0 = cg.stats().cpuTotalNanos();
        Thread.sleep(1000);
        assertThat(cg.stats().cpuTotalNanos() - frozen0).as("cpu used while frozen (ns)").isLessThan(5_000_000);

        cg.freeze(false);
        assertThat(Files.readString(dir(cg).resolve("cgroup.events"))).contains("frozen 0");
        long thawed0 = cg.stats().cpuTotalNanos();
        await().atMost(Duration.ofSeconds(10)).until(() -> cg.stats().cpuTotalNanos() - thawed0 > 50_000_000);
    }

    @Test
    void destroyKillsAFrozenTreeThroughCgroupKillAndRemovesTheGroup() throws Exception {
        Cgroup cg = manager.create("c" + UUID.randomUUID().toString().replace("-", ""), Resources.NONE);
        Workload tree = run(cg, "sleep 1000 & (sleep 1000 & wait) & while :; do :; done");
        await().atMost(Duration.ofSeconds(10)).until(() -> cg.pids().size() >= 4);
        List<Integer> pids = cg.pids();
        cg.freeze(true);

        cg.destroy();
        assertThat(tree.waitFor(Duration.ofSeconds(10))).isEqualTo(128 + 9);
        assertThat(pids).noneMatch(Workload::running);
        assertThat(dir(cg)).doesNotExist();
    }

    @Test
    void limitWhoseControllerIsMissingIsRefusedAndLeavesNoDirectory() throws Exception {
        String id = "c" + UUID.randomUUID().toString().replace("-", "");
        List<Resources> limits = List.of(
                new Resources(16L << 20, 0, 0, 0, 0, 0, null, null),
                new Resources(0, 0, 50_000, 100_000, 0, 0, null, null),
                new Resources(0, 0, 0, 0, 512, 0, null, null),
                new Resources(0, 0, 0, 0, 0, 20, null, null),
                new Resources(0, 0, 0, 0, 0, 0, "0", null));
        List<String> controllers = List.of("memory", "cpu", "cpu", "pids", "cpuset");
        for (int i = 0; i < limits.size(); i++) {
            Resources r = limits.get(i);
            assertThatThrownBy(() -> manager.create(id, r))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("the " + controllers.get(i) + " controller is not available")
                    .hasMessageContaining("cgroup.controllers");
            assertThat(manager.find(id)).isNull();
            assertThat(manager.parentDirs().get(unified).resolve(id)).doesNotExist();
        }
    }

    @Test
    void parentWithAContainerGroupIsNotRemoved() throws Exception {
        Cgroup cg = create(Resources.NONE);
        assertThatThrownBy(manager::removeParent).isInstanceOf(IOException.class)
                .hasMessageContaining("EBUSY").hasMessageContaining("container groups are still in it");
        assertThat(dir(cg)).exists();
    }
}
