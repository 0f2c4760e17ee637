package dev.berth.node.runtime;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Exit codes, start failures, stop and kill, stdin, TTY, exec, top. */
class LifecycleTest {
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

    private String startDetached(ContainerSpec spec) throws Exception {
        String id = RuntimeFixture.newId();
        fx.runtime.create(id, spec);
        ContainerState st = fx.runtime.start(id);
        assertThat(st.status()).isEqualTo(ContainerState.Status.RUNNING);
        assertThat(st.pid()).isPositive();
        return id;
    }

    @Test
    void ownExitCodeAndOutputStreamsApart() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "echo out; echo err >&2; exit 3").build());
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.stdout()).isEqualTo("out\n");
        assertThat(r.stderr()).isEqualTo("err\n");
        assertThat(r.state().status()).isEqualTo(ContainerState.Status.EXITED);
        assertThat(r.state().finishedAt()).isAfterOrEqualTo(r.state().startedAt());
    }

    @Test
    void commandNotFoundIs127WithDockersWording() throws Exception {
        String id = RuntimeFixture.newId();
        fx.runtime.create(id, ContainerSpec.builder().rootfs(rootfs).cmd("nosuch-cmd", "-c", "1", "x").build());
        assertThatThrownBy(() -> fx.runtime.start(id))
                .isInstanceOf(StartFailure.class)
                .hasMessage("exec: \"nosuch-cmd\": executable file not found in $PATH")
                .satisfies(e -> assertThat(((StartFailure) e).exitCode()).isEqualTo(127));
        ContainerState st = fx.runtime.state(id);
        assertThat(st.status()).isEqualTo(ContainerState.Status.CREATED);
        assertThat(st.exitCode()).isEqualTo(127);
        assertThat(st.error()).contains("executable file not found");
        assertThat(fx.processesUnderRoot()).isEmpty();
    }

    @Test
    void absentAbsolutePathIs127() throws Exception {
        String id = RuntimeFixture.newId();
        fx.runtime.create(id, ContainerSpec.builder().rootfs(rootfs).cmd("/nope/x").build());
        assertThatThrownBy(() -> fx.runtime.start(id)).isInstanceOf(StartFailure.class)
                .hasMessage("exec: \"/nope/x\": stat /nope/x: no such file or directory")
                .satisfies(e -> assertThat(((StartFailure) e).exitCode()).isEqualTo(127));
    }

    @Test
    void notExecutableIs126() throws Exception {
        String id = RuntimeFixture.newId();
        fx.runtime.create(id, ContainerSpec.builder().rootfs(rootfs).cmd("/etc/passwd").build());
        assertThatThrownBy(() -> fx.runtime.start(id)).isInstanceOf(StartFailure.class)
                .hasMessage("exec: \"/etc/passwd\": permission denied")
                .satisfies(e -> assertThat(((StartFailure) e).exitCode()).isEqualTo(126));
        String dir = RuntimeFixture.newId();
        fx.runtime.create(dir, ContainerSpec.builder().rootfs(rootfs).cmd("/etc").build());
        assertThatThrownBy(() -> fx.runtime.start(dir)).isInstanceOf(StartFailure.class)
                .satisfies(e -> assertThat(((StartFailure) e).exitCode()).isEqualTo(126));
    }

    @Test
    void killIs137() throws Exception {
        String id = startDetached(fx.sh(rootfs, "sleep 1000").build());
        fx.runtime.kill(id, "KILL");
        ContainerState st = fx.runtime.waitForExit(id, Duration.ofSeconds(30));
        assertThat(st.status()).isEqualTo(ContainerState.Status.EXITED);
        assertThat(st.exitCode()).isEqualTo(137);
        assertThatThrownBy(() -> fx.runtime.kill(id, "TERM")).isInstanceOf(RuntimeFailure.class)
                .hasMessage("Container " + id + " is not running");
    }

    @Test
    void plainSigtermDeathIs143() throws Exception {
        // PID 1 of a namespace ignores signals it has no handler for; with --init the command is not PID 1.
        String id = startDetached(ContainerSpec.builder().rootfs(rootfs).cmd("sleep", "1000").init(true).build());
        fx.runtime.kill(id, "SIGTERM");
        ContainerState st = fx.runtime.waitForExit(id, Duration.ofSeconds(30));
        assertThat(st.exitCode()).isEqualTo(143);
    }

    @Test
    void stopOfAProcessIgnoringSigtermEndsWithSigkillAfterTheTimeout() throws Exception {
        Path marker = rootfs.resolve("tmp/term-received");
        String id = startDetached(fx.sh(rootfs, "trap 'touch /tmp/term-received' TERM; touch /tmp/ready; while true; do sleep 0.1; done").build());
        awaitReady();
        ContainerState st = fx.runtime.stop(id, Duration.ofSeconds(2));
        assertThat(st.exitCode()).isEqualTo(137);
        assertThat(marker).as("SIGTERM came first").exists();
    }

    /** Until the shell has installed its traps: a signal before that would be ignored by PID 1 (no handler yet). */
    private void awaitReady() {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(rootfs.resolve("tmp/ready")));
    }

    @Test
    void pid1WithoutAHandlerIgnoresSigtermSoStopEndsWith137() throws Exception {
        String id = startDetached(ContainerSpec.builder().rootfs(rootfs).cmd("sleep", "1000").build());
        ContainerState st = fx.runtime.stop(id, Duration.ofSeconds(2));
        assertThat(st.status()).isEqualTo(ContainerState.Status.EXITED);
        assertThat(st.exitCode()).isEqualTo(137);
    }

    @Test
    void resizeChangesTheTerminalSize() throws Exception {
        String id = RuntimeFixture.newId();
        // The shim applies a resize asynchronously (SIGWINCH).
        // busybox stty fails while the size is 0x0; the loop is bounded, so a resize that never lands shows as a failure.
        fx.runtime.create(id, fx.sh(rootfs, "i=0; until [ \"$(stty size 2>/dev/null)\" = '40 120' ] || [ $i -ge 400 ]; do"
                + " sleep 0.05; i=$((i+1)); done; stty size 2>&1").tty(true).build());
        try (AttachStream s = fx.runtime.startAttached(id)) {
            fx.runtime.resize(id, 40, 120);
            assertThat(s.readToEnd().stdout()).isEqualTo("40 120\r\n");
        }
    }

    @Test
    void aProcessTrappingSigtermExitsWithItsOwnCode() throws Exception {
        String id = startDetached(fx.sh(rootfs, "trap 'exit 42' TERM; touch /tmp/ready; while true; do sleep 0.1; done").build());
        awaitReady();
        ContainerState st = fx.runtime.stop(id, Duration.ofSeconds(30));
        assertThat(st.exitCode()).isEqualTo(42);
    }

    @Test
    void stopSignalOfTheSpecIsUsed() throws Exception {
        String id = startDetached(fx.sh(rootfs, "trap 'exit 7' USR1; trap 'exit 9' TERM; touch /tmp/ready; while true; do sleep 0.1; done")
                .stopSignal("SIGUSR1").build());
        awaitReady();
        assertThat(fx.runtime.stop(id, null).exitCode()).isEqualTo(7);
    }

    @Test
    void stopOfAStoppedContainerChangesNothing() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "exit 4").build());
        assertThat(fx.runtime.stop(r.id(), Duration.ofSeconds(1)).exitCode()).isEqualTo(4);
    }

    @Test
    void restartAfterExit() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "echo run; exit 5").build());
        try (AttachStream s = fx.runtime.startAttached(r.id())) {
            assertThat(s.readToEnd().stdout()).isEqualTo("run\n");
        }
        assertThat(fx.runtime.waitForExit(r.id(), Duration.ofSeconds(30)).exitCode()).isEqualTo(5);
        List<String> logs = new ArrayList<>();
        fx.runtime.logs(r.id(), LogOptions.ALL, e -> logs.add(e.log()));
        assertThat(logs).containsExactly("run\n", "run\n");
    }

    @Test
    void stdinReachesTheProcessAndHalfCloseEndsIt() throws Exception {
        String id = RuntimeFixture.newId();
        fx.runtime.create(id, ContainerSpec.builder().rootfs(rootfs).cmd("cat").openStdin(true, true).build());
        try (AttachStream s = fx.runtime.startAttached(id)) {
            s.stdin().write("piped-input\n".getBytes(StandardCharsets.UTF_8));
            s.closeStdin();
            AttachStream.Output out = s.readToEnd();
            assertThat(out.stdout()).isEqualTo("piped-input\n");
        }
        assertThat(fx.runtime.waitForExit(id, Duration.ofSeconds(30)).exitCode()).isZero();
    }

    @Test
    void ttyOutputIsRawAndOneStream() throws Exception {
        String id = RuntimeFixture.newId();
        fx.runtime.create(id, fx.sh(rootfs, "echo tty-hello; echo to-err >&2; test -t 0 && test -t 1 && echo is-a-tty; echo $TERM; tty").tty(true).build());
        List<AttachStream.Frame> frames = new ArrayList<>();
        try (AttachStream s = fx.runtime.startAttached(id)) {
            for (AttachStream.Frame f; (f = s.read()) != null; ) {
                frames.add(f);
            }
        }
        assertThat(frames).allMatch(f -> f.stream() == 1);
        String all = String.join("", frames.stream().map(AttachStream.Frame::text).toList());
        assertThat(all).isEqualTo("tty-hello\r\nto-err\r\nis-a-tty\r\nxterm\r\n/dev/pts/0\r\n");
        List<LogEntry> logs = new ArrayList<>();
        fx.runtime.logs(id, LogOptions.ALL, logs::add);
        assertThat(logs.get(0).log()).isEqualTo("tty-hello\r\n");
        assertThat(logs).allMatch(e -> e.stream().equals("stdout"));
    }

    @Test
    void interactiveTtyEchoesInputAndExitsWithTheShellsCode() throws Exception {
        String id = RuntimeFixture.newId();
        fx.runtime.create(id, ContainerSpec.builder().rootfs(rootfs).cmd("sh").tty(true).openStdin(true, true).build());
        try (AttachStream s = fx.runtime.startAttached(id)) {
            s.stdin().write("echo from-stdin\nexit 5\n".getBytes(StandardCharsets.UTF_8));
            String out = s.readToEnd().stdout();
            assertThat(out).contains("from-stdin\r\n");
        }
        assertThat(fx.runtime.waitForExit(id, Duration.ofSeconds(30)).exitCode()).isEqualTo(5);
    }

    @Test
    void execRunsInTheContainerWithItsExitCodeUserAndEnv() throws Exception {
        String id = startDetached(ContainerSpec.builder().rootfs(rootfs).cmd("sleep", "1000").env("FROM_CONTAINER=1").build());
        try (ExecProcess p = fx.runtime.exec(id,
                new ExecSpec(List.of("sh", "-c", "echo $X $FROM_CONTAINER; id -u; hostname; ps -o pid,comm | grep -c sleep; exit 5"),
                        List.of("X=exec-env"), "alice", "/tmp", false, false, false), true)) {
            AttachStream.Output out = p.stream().readToEnd();
            assertThat(out.stdout()).isEqualTo("exec-env 1\n1000\n" + id.substring(0, 12) + "\n1\n");
            assertThat(p.waitFor()).isEqualTo(5);
        }
        try (ExecProcess p = fx.runtime.exec(id, ExecSpec.of("sh", "-c", "pwd; grep CapEff /proc/self/status; cat /proc/1/cmdline"), true)) {
            String out = p.stream().readToEnd().stdout();
            assertThat(out).isEqualTo("/\nCapEff:\t00000000a80425fb\nsleep\u00001000\u0000");
            assertThat(p.waitFor()).isZero();
        }
        assertThatThrownBy(() -> fx.runtime.exec(id, ExecSpec.of("nosuch"), true))
                .isInstanceOf(StartFailure.class).hasMessage("exec: \"nosuch\": executable file not found in $PATH");
        // The exec did not disturb the container, and its output stayed out of the container's log.
        assertThat(fx.runtime.state(id).status()).isEqualTo(ContainerState.Status.RUNNING);
        List<String> logs = new ArrayList<>();
        fx.runtime.logs(id, LogOptions.ALL, e -> logs.add(e.log()));
        assertThat(logs).isEmpty();
    }

    @Test
    void execWithStdinAndTty() throws Exception {
        String id = startDetached(fx.sh(rootfs, "sleep 1000").build());
        try (ExecProcess p = fx.runtime.exec(id, new ExecSpec(List.of("cat"), List.of(), null, null, false, true, false), true)) {
            p.stream().stdin().write("to-exec\n".getBytes(StandardCharsets.UTF_8));
            p.stream().closeStdin();
            assertThat(p.stream().readToEnd().stdout()).isEqualTo("to-exec\n");
            assertThat(p.waitFor()).isZero();
        }
        try (ExecProcess p = fx.runtime.exec(id, new ExecSpec(List.of("sh", "-c", "test -t 0 && tty"), List.of(), null, null, true, false, false), true)) {
            // A pty of the container's own devpts, as with docker exec -t.
            assertThat(p.stream().readToEnd().stdout()).matches("/dev/pts/\\d+\r\n");
            assertThat(p.waitFor()).isZero();
        }
    }

    @Test
    void topListsTheContainersProcesses() throws Exception {
        String id = startDetached(fx.sh(rootfs, "sleep 1001 & sleep 1002; echo").build());
        List<String> expected = List.of("/bin/sh -c sleep 1001 & sleep 1002; echo", "sleep 1001", "sleep 1002");
        ContainerRuntime.TopResult top = null;
        for (int i = 0; i < 500; i++) { // the shell forks and execs its children right after start
            top = fx.runtime.top(id);
            if (top.processes().stream().map(row -> row.get(7)).sorted().toList().equals(expected)) {
                break;
            }
            Thread.sleep(20);
        }
        assertThat(top.titles()).containsExactly("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD");
        assertThat(top.processes()).extracting(row -> row.get(7))
                .containsExactlyInAnyOrder("/bin/sh -c sleep 1001 & sleep 1002; echo", "sleep 1001", "sleep 1002");
        assertThat(top.processes().get(0).get(1)).isEqualTo(Integer.toString(fx.runtime.state(id).pid()));
        assertThat(top.processes()).allMatch(row -> row.get(0).equals("root"));
    }

    @Test
    void removeOfARunningContainerNeedsForce() throws Exception {
        String id = startDetached(fx.sh(rootfs, "sleep 1000").build());
        assertThatThrownBy(() -> fx.runtime.remove(id, false)).isInstanceOf(RuntimeFailure.class)
                .hasMessageContaining("You cannot remove a running container " + id)
                .satisfies(e -> assertThat(((RuntimeFailure) e).status()).isEqualTo(409));
        fx.runtime.remove(id, true);
        assertThatThrownBy(() -> fx.runtime.state(id)).isInstanceOf(RuntimeFailure.class)
                .hasMessage("No such container: " + id);
        fx.assertNothingLeft();
    }

    @Test
    void rlimitTheKernelRefusesFailsTheStartAndLeavesNoProcess() throws Exception {
        String id = RuntimeFixture.newId();
        fx.runtime.create(id, fx.sh(rootfs, "true").ulimit("nofile", 1_000_000, 1_000_000).build());
        assertThatThrownBy(() -> fx.runtime.start(id)).isInstanceOf(StartFailure.class)
                .hasMessageStartingWith("setrlimit RLIMIT_NOFILE soft=1000000 hard=1000000")
                .hasMessageContaining("operation not permitted");
        assertThat(fx.runtime.state(id).status()).isEqualTo(ContainerState.Status.CREATED);
        assertThat(fx.processesUnderRoot()).isEmpty();
        assertThat(fx.mountsUnderRoot()).isEmpty();
    }

    @Test
    void emptyCommandIsRefused() {
        assertThatThrownBy(() -> fx.runtime.create(RuntimeFixture.newId(), ContainerSpec.builder().rootfs(rootfs).build()))
                .isInstanceOf(RuntimeFailure.class).hasMessage("No command specified");
    }

    @Test
    void badSignalIsRefused() throws Exception {
        String id = startDetached(fx.sh(rootfs, "sleep 1000").build());
        assertThatThrownBy(() -> fx.runtime.kill(id, "SIGNOPE")).isInstanceOf(RuntimeFailure.class)
                .hasMessage("Invalid signal: SIGNOPE");
    }

    @Test
    void fileWrittenInContainerIsOnTheRootfs() throws Exception {
        fx.run(fx.sh(rootfs, "echo data > /tmp/out").build());
        assertThat(Files.readString(rootfs.resolve("tmp/out"))).isEqualTo("data\n");
    }
}
