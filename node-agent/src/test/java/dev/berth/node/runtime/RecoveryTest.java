package dev.berth.node.runtime;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The agent (a separate JVM) is killed with SIGKILL while a container runs; a new agent takes over. */
class RecoveryTest {
    private RuntimeFixture fx;
    private Path rootfs;
    private Process agent;
    private ShimRuntime second;

    @BeforeEach
    void setUp() throws Exception {
        fx = new RuntimeFixture();
        rootfs = fx.rootfs();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (agent != null && agent.isAlive()) {
            agent.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        if (second != null) {
            for (ContainerState st : second.list()) {
                second.remove(st.id(), true);
            }
            second.close();
        }
        fx.close();
    }

    /** Starts the stand-in agent, waits for its container to run, then kills the agent with SIGKILL. */
    private int startAgentAndKillIt(String id) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        agent = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dberth.shim.path=" + RuntimeFixture.SHIM, RecoveryAgentMain.class.getName(),
                fx.stateRoot.toString(), fx.runRoot.toString(), RuntimeFixture.SHIM.toString(), rootfs.toString(), id)
                .redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8));
        List<String> lines = new ArrayList<>();
        String line;
        while ((line = r.readLine()) != null && !line.startsWith("STARTED ")) {
            lines.add(line);
        }
        assertThat(line).as("agent output: " + lines).isNotNull();
        int pid = Integer.parseInt(line.substring(8));
        agent.destroyForcibly(); // SIGKILL
        assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(agent.exitValue()).isEqualTo(137);
        assertThat(Path.of("/proc/" + pid)).as("the container outlives its agent").exists();
        return pid;
    }

    @Test
    void aNewAgentReattachesToARunningContainerAndReportsItsLaterExit() throws Exception {
        String id = RuntimeFixture.newId();
        int pid = startAgentAndKillIt(id);

        second = new ShimRuntime(new ShimRuntime.Config(fx.stateRoot, fx.runRoot, RuntimeFixture.SHIM), null, null, null);
        List<ContainerState> exits = new CopyOnWriteArrayList<>();
        second.onExit(exits::add);
        ContainerState st = second.state(id);
        assertThat(st.status()).isEqualTo(ContainerState.Status.RUNNING);
        assertThat(st.pid()).isEqualTo(pid);

        Files.writeString(rootfs.resolve("tmp/release"), "");
        ContainerState end = second.waitForExit(id, Duration.ofSeconds(30));
        assertThat(end.status()).isEqualTo(ContainerState.Status.EXITED);
        assertThat(end.exitCode()).isEqualTo(7);
        assertThat(exits).extracting(ContainerState::exitCode).containsExactly(7);
        List<String> logs = new ArrayList<>();
        second.logs(id, LogOptions.ALL, e -> logs.add(e.log()));
        assertThat(logs).containsExactly("up\n", "done\n");
    }

    @Test
    void anExitWhileNoAgentRanIsReportedWithItsCode() throws Exception {
        String id = RuntimeFixture.newId();
        startAgentAndKillIt(id);
        int shimPid = ShimFiles.pid(fx.runRoot.resolve("tasks").resolve(id).resolve("shim.pid"));
        assertThat(shimPid).isPositive();

        Files.writeString(rootfs.resolve("tmp/release"), "");
        await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(Path.of("/proc/" + shimPid)));

        second = new ShimRuntime(new ShimRuntime.Config(fx.stateRoot, fx.runRoot, RuntimeFixture.SHIM), null, null, null);
        ContainerState st = second.state(id);
        assertThat(st.status()).isEqualTo(ContainerState.Status.EXITED);
        assertThat(st.exitCode()).isEqualTo(7);
        assertThat(st.finishedAt()).isAfter(st.startedAt());
        List<String> logs = new ArrayList<>();
        second.logs(id, LogOptions.ALL, e -> logs.add(e.log()));
        assertThat(logs).containsExactly("up\n", "done\n");
    }
}
