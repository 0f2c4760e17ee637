package dev.berth.node.runtime;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a process sees inside: namespaces, /proc, /dev, /etc files, capabilities, user, environment. */
class IsolationTest {
    private RuntimeFixture fx;
    private Path rootfs;

    @BeforeEach
    void setUp() throws Exception {
        fx = new RuntimeFixture();
        rootfs = fx.rootfs();
    }

    @AfterEach
    void tearDown() throws Exception {
        fx.close();
    }

    @Test
    void processIsPid1AndSeesOnlyItsOwnProcesses() throws Exception {
        // The background sleep is waited for until it has exec'd, so ps sees it as "sleep".
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "echo pid=$$; sleep 30 & until grep -q sleep /proc/$!/comm; do :; done;"
                + " ps -o pid,comm; kill $!").build());
        assertThat(r.stdout()).startsWith("pid=1\n");
        List<String> rows = r.stdout().lines().skip(2).map(String::trim).toList();
        assertThat(rows).hasSize(3).allMatch(l -> l.matches("\\d+ (sh|sleep|ps)"), "only the container's processes");
        assertThat(r.exitCode()).isZero();
    }

    @Test
    void hostnameIsTheShortIdAndEtcFilesArePresent() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "hostname; cat /etc/hostname; cat /etc/hosts; cat /etc/resolv.conf").build());
        String shortId = r.id().substring(0, 12);
        assertThat(r.stdout()).startsWith(shortId + "\n" + shortId + "\n");
        assertThat(r.stdout()).contains("127.0.0.1\tlocalhost").contains("ip6-localhost").contains("nameserver ");
    }

    @Test
    void givenHostnameIsUsed() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "hostname").hostname("web-1").build());
        assertThat(r.stdout()).isEqualTo("web-1\n");
    }

    @Test
    void maskedPathsReadEmptyAndReadOnlyPathsRefuseWrites() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs,
                "echo timer_list=$(wc -c < /proc/timer_list); echo keys=$(wc -c < /proc/keys);"
                        + " echo firmware=$(ls -A /sys/firmware | wc -l);"
                        + " echo 1 > /proc/sys/kernel/ns_last_pid && echo written || echo refused;"
                        + " echo 1 > /proc/sysrq-trigger && echo written || echo refused").build());
        assertThat(r.stdout()).contains("timer_list=0\n", "keys=0\n", "firmware=0\n");
        assertThat(r.stdout()).contains("refused\nrefused\n").doesNotContain("written");
        assertThat(r.stderr()).contains("Read-only file system");
        // On the host these paths are not empty: the mask is what makes them so.
        assertThat(Files.size(Path.of("/proc/timer_list")) > 0 || !Files.readString(Path.of("/proc/timer_list")).isEmpty()).isTrue();
    }

    @Test
    void devHasDockersMinimalSet() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs,
                "ls -A /dev | tr '\\n' ' '; echo; readlink /dev/ptmx; readlink /dev/fd; head -c 4 /dev/zero | wc -c;"
                        + " grep -E ' /dev/(pts|shm|mqueue) ' /proc/mounts | cut -d' ' -f1,3 | sort | tr '\\n' ' '").build());
        assertThat(r.stdout().lines().findFirst().orElseThrow().trim().split(" "))
                .containsExactlyInAnyOrder("core", "fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm",
                        "stderr", "stdin", "stdout", "tty", "urandom", "zero");
        assertThat(r.stdout()).contains("pts/ptmx\n/proc/self/fd\n4\n");
        assertThat(r.stdout()).contains("devpts devpts", "mqueue mqueue", "shm tmpfs");
    }

    @Test
    void sysIsReadOnlyAndProcIsNoexec() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "grep -E ' /(sys|proc) ' /proc/mounts").build());
        assertThat(r.stdout()).containsPattern("sysfs /sys sysfs ro,nosuid,nodev,noexec")
                .containsPattern("proc /proc proc rw,nosuid,nodev,noexec");
    }

    @Test
    void defaultCapabilitiesAreDockers() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "grep -E '^Cap(Eff|Prm|Bnd|Inh|Amb)' /proc/self/status").build());
        assertThat(r.stdout()).contains("CapEff:\t00000000a80425fb", "CapPrm:\t00000000a80425fb",
                "CapBnd:\t00000000a80425fb", "CapInh:\t0000000000000000", "CapAmb:\t0000000000000000");
    }

    @Test
    void capDropAndAddChangeTheSet() throws Exception {
        RuntimeFixture.Run dropped = fx.run(fx.sh(rootfs, "grep CapEff /proc/self/status; chown 1 /tmp && echo chowned")
                .capDrop("CHOWN").build());
        assertThat(dropped.stdout()).contains("CapEff:\t00000000a80425fa").doesNotContain("chowned");
        assertThat(dropped.stderr()).contains("Operation not permitted");

        RuntimeFixture.Run added = fx.run(fx.sh(rootfs, "grep CapEff /proc/self/status; ip link set lo up && echo up")
                .capAdd("NET_ADMIN").build());
        assertThat(added.stdout()).contains("CapEff:\t00000000a80435fb", "up\n");

        RuntimeFixture.Run none = fx.run(fx.sh(rootfs, "grep CapEff /proc/self/status").capDrop("ALL").build());
        assertThat(none.stdout()).contains("CapEff:\t0000000000000000");
    }

    @Test
    void privilegedGetsEveryCapabilityAndNoMasks() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "grep CapEff /proc/self/status; echo timer_list=$(wc -c < /proc/timer_list)")
                .privileged(true).build());
        String all = String.format("%016x", Capabilities.all());
        assertThat(r.stdout()).contains("CapEff:\t" + all).doesNotContain("timer_list=0\n");
    }

    @Test
    void unknownCapabilityIsRefusedAtCreate() throws Exception {
        assertThatThrownBy(() -> fx.runtime.create(RuntimeFixture.newId(), fx.sh(rootfs, "true").capAdd("CAP_FOO").build()))
                .isInstanceOf(RuntimeFailure.class)
                .hasMessage("invalid CapAdd: unknown capability: \"CAP_FOO\"")
                .satisfies(e -> assertThat(((RuntimeFailure) e).status()).isEqualTo(400));
        fx.assertNothingLeft();
    }

    @Test
    void userByNumberHasNoCapabilities() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "id; grep CapEff /proc/self/status; echo $HOME").user("1234").build());
        // No passwd entry: gid 0 and no supplementary groups, as runc's user lookup gives.
        assertThat(r.stdout()).startsWith("uid=1234 gid=0(root)\n")
                .contains("CapEff:\t0000000000000000").endsWith("\n/\n");
    }

    @Test
    void userByNameGetsItsGroupsAndHome() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "id; echo $HOME").user("alice").build());
        // Supplementary groups are those listing alice (moby's getUser over runc's user lookup).
        assertThat(r.stdout()).isEqualTo("uid=1000(alice) gid=1000(alice) groups=29(audio),50(staff)\n/home/alice\n");
    }

    @Test
    void userAndGroupByNameAndGroupAdd() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "id").user("alice:staff").groupAdd("audio", "4242").build());
        // An explicit group replaces the enumeration of alice's groups; group-add entries are added.
        assertThat(r.stdout()).isEqualTo("uid=1000(alice) gid=50(staff) groups=29(audio),4242\n");
    }

    @Test
    void unknownUserIsRefusedAtCreateLeavingNothing() throws Exception {
        assertThatThrownBy(() -> fx.runtime.create(RuntimeFixture.newId(), fx.sh(rootfs, "true").user("nosuch").build()))
                .isInstanceOf(RuntimeFailure.class)
                .hasMessage("unable to find user nosuch: no matching entries in passwd file");
        fx.assertNothingLeft();
    }

    @Test
    void envWorkdirAndEntrypointPlusCmd() throws Exception {
        ContainerSpec spec = ContainerSpec.builder().rootfs(rootfs)
                .entrypoint("/bin/sh", "-c").cmd("echo $FOO; pwd; echo $HOSTNAME; echo $PATH")
                .env("FOO=bar baz").workingDir("/work/deep").hostname("h1").build();
        RuntimeFixture.Run r = fx.run(spec);
        assertThat(r.stdout()).isEqualTo("bar baz\n/work/deep\nh1\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n");
    }

    @Test
    void bindMountsReadOnlyAndTmpfs() throws Exception {
        Path host = Files.createTempDirectory(fx.root, "vol");
        Files.writeString(host.resolve("in.txt"), "from host\n");
        Path rw = Files.createTempDirectory(fx.root, "rw");
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs,
                        "cat /data/in.txt; echo x > /data/new && echo wrote-ro; echo y > /out/f && echo wrote-rw;"
                                + " grep ' /scratch ' /proc/mounts")
                .mount(ContainerSpec.Mount.bind(host.toString(), "/data", true))
                .mount(ContainerSpec.Mount.bind(rw.toString(), "/out", false))
                .mount(ContainerSpec.Mount.tmpfs("/scratch", "size=1m")).build());
        assertThat(r.stdout()).contains("from host\n", "wrote-rw\n").doesNotContain("wrote-ro");
        assertThat(r.stdout()).containsPattern("tmpfs /scratch tmpfs rw,nosuid,nodev,noexec.*size=1024k");
        assertThat(Files.readString(rw.resolve("f"))).isEqualTo("y\n");
        assertThat(host.resolve("new")).doesNotExist();
    }

    @Test
    void missingBindSourceIsRefused() {
        assertThatThrownBy(() -> fx.runtime.create(RuntimeFixture.newId(), fx.sh(rootfs, "true")
                .mount(ContainerSpec.Mount.bind("/nonexistent/dir", "/data", false)).build()))
                .isInstanceOf(RuntimeFailure.class)
                .hasMessageContaining("bind source path does not exist: /nonexistent/dir");
    }

    @Test
    void readonlyRootfs() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "touch /x && echo wrote; echo ok > /tmp/../etc/y && echo wrote2; echo done")
                .readonlyRootfs(true).build());
        assertThat(r.stdout()).isEqualTo("done\n");
        assertThat(r.stderr()).contains("Read-only file system");
    }

    @Test
    void noNewPrivileges() throws Exception {
        RuntimeFixture.Run on = fx.run(fx.sh(rootfs, "grep NoNewPrivs /proc/self/status").noNewPrivileges(true).build());
        RuntimeFixture.Run off = fx.run(fx.sh(rootfs, "grep NoNewPrivs /proc/self/status").build());
        assertThat(on.stdout()).contains("NoNewPrivs:\t1");
        assertThat(off.stdout()).contains("NoNewPrivs:\t0");
    }

    @Test
    void ulimitsWithinTheHostsHardLimit() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "ulimit -n; ulimit -Hn").ulimit("nofile", 1024, 2048).build());
        assertThat(r.stdout()).isEqualTo("1024\n2048\n");
    }
}
