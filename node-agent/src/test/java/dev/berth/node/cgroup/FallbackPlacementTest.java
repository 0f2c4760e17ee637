package dev.berth.node.cgroup;

import dev.berth.node.cgroup.CgroupManager.Cgroup;
import dev.berth.node.cgroup.CgroupManager.Resources;
import dev.berth.node.nativeio.Libc;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A hierarchy whose root is read-only while the agent's own group is writable, as in a container given a
 * read-only cgroup mount with its own subtree writable: the parent group goes under the agent's own cgroup.
 * Built for real with bind mounts of the host's pids hierarchy.
 */
class FallbackPlacementTest {
    private Path pidsRoot;
    private String own;
    private Path view;

    @BeforeEach
    void mountReadOnlyView() throws Exception {
        pidsRoot = CgroupLayout.detect().carrying("pids").mountPoint();
        own = "berth-test-own-" + UUID.randomUUID().toString().substring(0, 8);
        CgroupFiles.mkdir(pidsRoot.resolve(own));
        view = Files.createTempDirectory("berth-cgroup-view");
        Libc.mount(pidsRoot.toString(), view.toString(), null, Libc.MS_BIND, null);
        Libc.mount(null, view.toString(), null, Libc.MS_PRIVATE, null);
        Libc.mount(null, view.toString(), null, Libc.MS_REMOUNT | Libc.MS_BIND | Libc.MS_RDONLY, null);
        Libc.mount(pidsRoot.resolve(own).toString(), view.resolve(own).toString(), null, Libc.MS_BIND, null);
    }

    @AfterEach
    void unmount() throws Exception {
        Libc.umount2(view.resolve(own).toString(), 0);
        Libc.umount2(view.toString(), 0);
        Files.delete(view);
        CgroupFiles.rmdir(pidsRoot.resolve(own));
    }

    @Test
    void parentGoesUnderTheAgentsOwnGroupWhenTheRootIsReadOnly() throws Exception {
        Hierarchy h = new Hierarchy(view, false, Set.of("pids"), "/" + own);
        FsCgroupManager manager = new FsCgroupManager(new CgroupLayout(List.of(h)), "berth-fb");
        assertThat(manager.mode()).isEqualTo("v1");
        assertThat(manager.parentDirs().get(h)).isEqualTo(view.resolve(own).resolve("berth-fb"));
        assertThat(view.resolve("berth-fb")).doesNotExist();

        Cgroup cg = manager.create("c1", new Resources(0, 0, 0, 0, 0, 7, null, null));
        try (Workload w = Workload.startIn(cg, "sleep 1000")) {
            assertThat(pidsRoot.resolve(own).resolve("berth-fb/c1/pids.max")).hasContent("7");
            await().atMost(Duration.ofSeconds(10)).until(() -> cg.pids().contains(w.pid()));
            assertThat(Files.readAllLines(Path.of("/proc/" + w.pid() + "/cgroup")))
                    .anyMatch(l -> l.endsWith(":pids:/" + own + "/berth-fb/c1"));
            assertThat(manager.find("c1")).isNotNull();
            cg.destroy();
            assertThat(w.waitFor(Duration.ofSeconds(10))).isEqualTo(128 + 9);
        }
        assertThat(pidsRoot.resolve(own).resolve("berth-fb/c1")).doesNotExist();
        manager.removeParent();
        assertThat(pidsRoot.resolve(own).resolve("berth-fb")).doesNotExist();
    }
}
