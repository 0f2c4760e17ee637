package dev.berth.node.cgroup;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Layout detection from the text of /proc/self/mountinfo and /proc/self/cgroup as various hosts show it. */
class CgroupLayoutTest {

    private static CgroupLayout parse(String mountinfo, String cgroup, Map<String, Set<String>> unified) {
        return CgroupLayout.parse(mountinfo, cgroup, p -> unified.getOrDefault(p.toString(), Set.of()));
    }

    @Test
    void hybridHostWithSeparateHierarchiesAndANestedMemoryGroup() {
        String mountinfo = """
                31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
                32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
                33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
                35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
                39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
                40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
                41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
                """;
        String cgroup = """
                9:name=systemd:/
                8:pids:/
                4:memory:/process_api/7403b5d1
                2:cpuacct:/
                1:cpu:/
                0::/
                """;
        CgroupLayout layout = parse(mountinfo, cgroup, Map.of("/sys/fs/cgroup/unified", Set.of("hugetlb")));

        assertThat(layout.mode()).isEqualTo("hybrid");
        assertThat(layout.hierarchies()).hasSize(5);
        assertThat(layout.carrying("memory").ownDir()).isEqualTo(Path.of("/sys/fs/cgroup/memory/process_api/7403b5d1"));
        assertThat(layout.carrying("cpu").mountPoint()).isEqualTo(Path.of("/sys/fs/cgroup/cpu"));
        assertThat(layout.carrying("cpu").ownDir()).isEqualTo(Path.of("/sys/fs/cgroup/cpu"));
        assertThat(layout.carrying("cpuacct").mountPoint()).isEqualTo(Path.of("/sys/fs/cgroup/cpuacct"));
        assertThat(layout.carrying("hugetlb")).isSameAs(layout.unified());
        assertThat(layout.carrying("freezer")).isNull();
        assertThat(layout.hierarchies()).noneMatch(h -> h.mountPoint().endsWith("systemd"));
    }

    @Test
    void v1HostWithCoMountedControllersAndAnEmptyCgroup2() {
        String mountinfo = """
                25 24 0:22 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:5 - cgroup2 cgroup2 rw,nsdelegate
                26 24 0:23 / /sys/fs/cgroup/systemd rw,nosuid shared:6 - cgroup cgroup rw,xattr,name=systemd
                29 24 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:10 - cgroup cgroup rw,cpu,cpuacct
                30 24 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid shared:11 - cgroup cgroup rw,net_cls,net_prio
                31 24 0:28 / /sys/fs/cgroup/memory rw,nosuid shared:12 - cgroup cgroup rw,memory
                """;
        String cgroup = """
                5:memory:/user.slice
                4:net_cls,net_prio:/
                3:cpu,cpuacct:/user.slice
                1:name=systemd:/user.slice/session-1.scope
                0::/user.slice/session-1.scope
                """;
        CgroupLayout layout = parse(mountinfo, cgroup, Map.of());

        assertThat(layout.mode()).isEqualTo("v1");
        assertThat(layout.carrying("cpu")).isSameAs(layout.carrying("cpuacct"));
        assertThat(layout.carrying("cpu").controllers()).containsExactlyInAnyOrder("cpu", "cpuacct");
        assertThat(layout.carrying("cpu").ownPath()).isEqualTo("user.slice");
        assertThat(layout.carrying("net_prio").mountPoint()).isEqualTo(Path.of("/sys/fs/cgroup/net_cls,net_prio"));
        assertThat(layout.unified().controllers()).isEmpty();
        assertThat(layout.unified().ownPath()).isEqualTo("user.slice/session-1.scope");
    }

    @Test
    void v2HostWithEverythingOnCgroup2() {
        String mountinfo = """
                22 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
                26 21 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
                """;
        String cgroup = "0::/system.slice/berth-node.service\n";
        CgroupLayout layout = parse(mountinfo, cgroup,
                Map.of("/sys/fs/cgroup", Set.of("cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc")));

        assertThat(layout.mode()).isEqualTo("v2");
        assertThat(layout.hierarchies()).hasSize(1);
        assertThat(layout.carrying("memory")).isSameAs(layout.unified());
        assertThat(layout.unified().ownDir()).isEqualTo(Path.of("/sys/fs/cgroup/system.slice/berth-node.service"));
    }

    @Test
    void containerSeesOnlyItsSubtreeOfAHierarchy() {
        // A bind mount of /docker/abc as the hierarchy, without a cgroup namespace.
        String mountinfo = """
                700 690 0:29 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory
                701 690 0:30 /docker/abc /sys/fs/cgroup/pids ro,nosuid - cgroup cgroup rw,pids
                """;
        String cgroup = """
                6:pids:/docker/abc
                4:memory:/docker/abc/inner
                """;
        CgroupLayout layout = parse(mountinfo, cgroup, Map.of());

        assertThat(layout.carrying("pids").ownPath()).isEmpty();
        assertThat(layout.carrying("memory").ownDir()).isEqualTo(Path.of("/sys/fs/cgroup/memory/inner"));
    }

    @Test
    void escapedMountPointsAndDuplicateMountsOfOneHierarchy() {
        String mountinfo = """
                40 31 0:32 / /srv/cgroup\\040roots/memory rw - cgroup cgroup rw,memory
                41 31 0:32 / /mnt/again rw - cgroup cgroup rw,memory
                """;
        CgroupLayout layout = parse(mountinfo, "4:memory:/\n", Map.of());

        assertThat(layout.hierarchies()).hasSize(1);
        assertThat(layout.carrying("memory").mountPoint()).isEqualTo(Path.of("/srv/cgroup roots/memory"));
    }
}
