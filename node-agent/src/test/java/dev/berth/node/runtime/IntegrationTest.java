package dev.berth.node.runtime;

import dev.berth.node.TestImages;
import dev.berth.node.cgroup.CgroupManager;
import dev.berth.node.cgroup.FsCgroupManager;
import dev.berth.node.network.BridgeNetwork;
import dev.berth.node.network.NetworkConfig;
import dev.berth.node.network.NodeNetwork;
import dev.berth.node.snapshot.OverlaySnapshotter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The runtime over the real parts: an overlay rootfs from a busybox layer, cgroups (limits, freezer, OOM, stats)
 * and the default bridge network; nothing of a container may stay after its removal.
 */
class IntegrationTest {
    private static final String BRIDGE = "brtrt0";
    private static final String SUBNET = "10.201.9.0/24";
    private static final long MB = 1024 * 1024;

    private static Path root;
    private static OverlaySnapshotter snapshotter;
    private static FsCgroupManager cgroups;
    private static BridgeNetwork network;
    private static RuntimeFixture fx;
    private static String image;
    private static Set<String> linksBefore;

    @BeforeAll
    static void setUp() throws Exception {
        root = RuntimeFixture.newRoot();
        snapshotter = new OverlaySnapshotter(root.resolve("lib"), root.resolve("run"));
        cgroups = FsCgroupManager.detect("berth-rt-" + UUID.randomUUID().toString().substring(0, 8));
        network = new BridgeNetwork(new NetworkConfig(root.resolve("lib"), root.resolve("run"), BRIDGE, SUBNET, null,
                null, null));
        fx = new RuntimeFixture(root, snapshotter, cgroups, network);
        TestImages.Layer busybox = TestImages.busybox();
        image = snapshotter.unpack(null, busybox.diffId(), busybox.open());
        network.bridge(); // the bridge exists before the first container, so the link list below is stable
        linksBefore = links();
    }

    @AfterEach
    void removeAll() throws Exception {
        for (ContainerState st : fx.runtime.list()) {
            fx.runtime.remove(st.id(), true);
        }
        assertNothingLeft();
    }

    @AfterAll
    static void tearDown() throws Exception {
        try {
            fx.close();
        } finally {
            network.removeBridge();
            cgroups.removeParent();
            snapshotter.close();
        }
    }

    static Set<String> links() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/sys/class/net"))) {
            return new TreeSet<>(s.map(p -> p.getFileName().toString()).toList());
        }
    }

    /** No mount, process, cgroup, veth, netns, snapshot or directory of any container. */
    private static void assertNothingLeft() throws IOException {
        fx.assertNothingLeft();
        for (Path parent : cgroups.parentDirs().values()) {
            try (Stream<Path> s = Files.list(parent)) {
                assertThat(s.filter(Files::isDirectory).toList()).as("cgroups left in " + parent).isEmpty();
            }
        }
        assertThat(links()).as("network links").isEqualTo(linksBefore);
        assertThat(RuntimeFixture.listDir(root.resolve("run/netns"))).as("netns left").isEmpty();
        assertThat(RuntimeFixture.listDir(root.resolve("run/containers"))).as("rootfs mount targets left").isEmpty();
        assertThat(RuntimeFixture.listDir(root.resolve("lib/snapshots"))).as("snapshots left").isEmpty();
    }

    private ContainerSpec.Builder sh(String script) {
        return ContainerSpec.builder().image(image).cmd("/bin/sh", "-c", script)
                .network(new NodeNetwork.Spec("bridge", List.of(), null));
    }

    @Test
    void imageContainerOnTheBridge() throws Exception {
        RuntimeFixture.Run r = fx.run(sh("hostname; grep $(hostname) /etc/hosts; ip -o -4 addr show eth0 | wc -l;"
                + " ip route | grep -c default; cat /etc/passwd | head -1").build());
        String shortId = r.id().substring(0, 12);
        assertThat(r.stdout()).startsWith(shortId + "\n10.201.9.");
        assertThat(r.stdout()).contains("\t" + shortId + "\n1\n1\nroot:x:0:0:");
        assertThat(r.exitCode()).isZero();
    }

    @Test
    void writesGoToTheContainersOwnLayer() throws Exception {
        RuntimeFixture.Run a = fx.run(sh("echo mine > /etc/marker; cat /etc/marker").build());
        RuntimeFixture.Run b = fx.run(sh("cat /etc/marker 2>&1; true").build());
        assertThat(a.stdout()).isEqualTo("mine\n");
        assertThat(b.stdout()).contains("No such file");
    }

    @Test
    void pauseFreezesAndUnpauseThaws() throws Exception {
        String id = RuntimeFixture.newId();
        fx.runtime.create(id, sh("sleep 1000").build());
        fx.runtime.start(id);
        fx.runtime.pause(id);
        assertThat(fx.runtime.state(id).status()).isEqualTo(ContainerState.Status.PAUSED);
        String pid = Integer.toString(fx.runtime.state(id).pid());
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        assertThat(stat.charAt(stat.lastIndexOf(')') + 2)).as("frozen task state").isIn('D', 'S');
        assertThatThrownBy(() -> fx.runtime.exec(id, ExecSpec.of("true"), false)).isInstanceOf(RuntimeFailure.class)
                .hasMessageContaining("is paused");
        assertThatThrownBy(() -> fx.runtime.pause(id)).hasMessage("Container " + id + " is already paused");
        fx.runtime.unpause(id);
        assertThat(fx.runtime.state(id).status()).isEqualTo(ContainerState.Status.RUNNING);
        try (ExecProcess p = fx.runtime.exec(id, ExecSpec.of("sh", "-c", "exit 3"), false)) {
            assertThat(p.waitFor()).isEqualTo(3);
        }
        assertThatThrownBy(() -> fx.runtime.unpause(id)).hasMessage("Container " + id + " is not paused");
    }

    @Test
    void stopOfAPausedContainer() throws Exception {
        String id = RuntimeFixture.newId();
        fx.runtime.create(id, sh("trap 'exit 11' TERM; touch /tmp/ready; while true; do sleep 0.1; done").build());
        fx.runtime.start(id);
        // The merged rootfs is visible on the host: wait until the trap is set (PID 1 ignores SIGTERM before).
        Path ready = root.resolve("run/containers").resolve(id).resolve("rootfs/tmp/ready");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(ready));
        fx.runtime.pause(id);
        assertThat(fx.runtime.stop(id, Duration.ofSeconds(20)).exitCode()).isEqualTo(11);
    }

    @Test
    void limitsAndStatsFromTheCgroup() throws Exception {
        String id = RuntimeFixture.newId();
        // The command itself, not through sh -c: top must not depend on when the shell execs.
        fx.runtime.create(id, sh("unused").cmd("sleep", "1000")
                .resources(new CgroupManager.Resources(64 * MB, 64 * MB, 0, 0, 0, 50, null, null)).build());
        fx.runtime.start(id);
        CgroupManager.CgroupStats stats = fx.runtime.stats(id);
        assertThat(stats.memoryLimit()).isEqualTo(64 * MB);
        assertThat(stats.pidsLimit()).isEqualTo(50);
        assertThat(stats.pidsCurrent()).isEqualTo(1);
        ContainerRuntime.TopResult top = fx.runtime.top(id);
        assertThat(top.processes()).extracting(row -> row.get(7)).containsExactly("sleep 1000");
    }

    @Test
    void oomKillUnderA16MbLimitIsReported() throws Exception {
        String id = RuntimeFixture.newId();
        fx.runtime.create(id, sh("x=$(head -c 300000000 /dev/zero | tr '\\0' x); echo survived")
                .resources(new CgroupManager.Resources(16 * MB, 16 * MB, 0, 0, 0, 0, null, null)).build());
        fx.runtime.start(id);
        ContainerState st = fx.runtime.waitForExit(id, Duration.ofSeconds(60));
        assertThat(st.oomKilled()).isTrue();
        assertThat(st.exitCode()).isEqualTo(137);
    }

    @Test
    void missingLayerIsRefusedLeavingNothing() throws Exception {
        String missing = "sha256:" + "0".repeat(64);
        assertThatThrownBy(() -> fx.runtime.create(RuntimeFixture.newId(),
                ContainerSpec.builder().image(missing).cmd("true").build()))
                .isInstanceOf(RuntimeFailure.class)
                .hasMessageContaining("layer chain " + missing + " is not unpacked on this node")
                .satisfies(e -> assertThat(((RuntimeFailure) e).status()).isEqualTo(404));
        assertNothingLeft();
    }

    @Test
    void unknownUserInTheImageIsRefusedLeavingNothing() throws Exception {
        assertThatThrownBy(() -> fx.runtime.create(RuntimeFixture.newId(), sh("true").user("alice").build()))
                .hasMessage("unable to find user alice: no matching entries in passwd file");
        assertNothingLeft();
    }

    @Test
    void aLimitTheKernelRefusesFailsTheStartLeavingNoCgroupOrNetwork() throws Exception {
        String id = RuntimeFixture.newId();
        fx.runtime.create(id, sh("true").resources(new CgroupManager.Resources(0, 0, 0, 0, 0, 0, "999", null)).build());
        assertThatThrownBy(() -> fx.runtime.start(id)).isInstanceOf(IOException.class)
                .hasMessageContaining("cpuset.cpus").hasMessageContaining("999");
        assertThat(fx.runtime.state(id).status()).isEqualTo(ContainerState.Status.CREATED);
        for (Path parent : cgroups.parentDirs().values()) {
            assertThat(parent.resolve(id)).doesNotExist();
        }
        assertThat(links()).isEqualTo(linksBefore);
        assertThat(fx.processesUnderRoot()).isEmpty();
    }

    @Test
    void twoHundredCyclesLeaveNothingBehind() throws Exception {
        for (int i = 0; i < 200; i++) {
            String id = RuntimeFixture.newId();
            fx.runtime.create(id, ContainerSpec.builder().image(image).cmd("/bin/true")
                    .network(new NodeNetwork.Spec("bridge", List.of(), null))
                    .resources(new CgroupManager.Resources(64 * MB, 0, 0, 0, 0, 100, null, null)).build());
            fx.runtime.start(id);
            assertThat(fx.runtime.waitForExit(id, Duration.ofSeconds(30)).exitCode()).isZero();
            fx.runtime.remove(id, false);
        }
        assertNothingLeft();
    }
}
