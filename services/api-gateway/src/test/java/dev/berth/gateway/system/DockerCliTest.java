package dev.berth.gateway.system;

import dev.berth.gateway.api.DockerApiServer;
import dev.berth.gateway.support.FakeServices;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The real docker CLI against the gateway: `docker version` and `docker info` print what a user expects. */
@QuarkusTest
@QuarkusTestResource(value = FakeServices.class, restrictToAnnotatedClass = true)
class DockerCliTest {

    static final Path DOCKER = Path.of("/usr/local/bin/docker");

    @Inject
    DockerApiServer server;

    @TempDir
    Path home;

    record Run(int exit, String out, String err) {
    }

    @Test
    void dockerVersionShowsTheServerEngine() throws Exception {
        Run run = docker("version");
        assertThat(run.err()).isEmpty();
        assertThat(run.exit()).isZero();
        String kernel = Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        assertThat(run.out())
                .contains("Server: Berth")
                .containsPattern("API version:\\s+1\\.51 \\(minimum version 1\\.24\\)")
                .containsPattern("Version:\\s+\\d+\\.\\d+\\.\\d+\\+berth\\.")
                .containsPattern("Go version:\\s+java" + Runtime.version().feature())
                .containsPattern("OS/Arch:\\s+linux/(amd64|arm64)")
                .containsPattern("Experimental:\\s+false")
                .doesNotContain("downgraded");
        assertThat(run.out()).as("the client negotiated its own maximum, 1.50, below ours").containsPattern("API version:\\s+1\\.50");
        assertThat(kernel).isNotEmpty();
    }

    @Test
    void dockerInfoShowsRealFiguresAndTheServicesCounts() throws Exception {
        Run run = docker("info");
        assertThat(run.err()).isEmpty();
        assertThat(run.exit()).isZero();
        String kernel = Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        String hostname = Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
        String cgroup = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers")) ? "2" : "1";
        assertThat(run.out())
                .contains(" Containers: 3\n", "  Running: 1\n", "  Paused: 1\n", "  Stopped: 1\n", " Images: 2\n")
                .contains(" Storage Driver: overlay2\n", " Logging Driver: json-file\n", " Cgroup Driver: cgroupfs\n")
                .contains(" Cgroup Version: " + cgroup + "\n", " Kernel Version: " + kernel + "\n", " Name: " + hostname + "\n")
                .contains(" CPUs: " + Runtime.getRuntime().availableProcessors() + "\n", " Default Runtime: berth\n")
                .contains(" Swarm: inactive\n", " Docker Root Dir: /var/lib/berth\n", "  127.0.0.0/8\n")
                .containsPattern(" Server Version: \\d+\\.\\d+\\.\\d+\\+berth\\.")
                .containsPattern(" Total Memory: \\d+(\\.\\d+)?GiB");
    }

    @Test
    void dockerSystemDfCountsWhatTheServicesHold() throws Exception {
        Run run = docker("system", "df");
        assertThat(run.err()).isEmpty();
        assertThat(run.exit()).isZero();
        assertThat(run.out())
                .containsPattern("Images\\s+2\\s+1\\s")
                .containsPattern("Containers\\s+3\\s+2\\s")
                .containsPattern("Local Volumes\\s+2\\s+1\\s")
                .containsPattern("Build Cache\\s+0\\s+0\\s");
    }

    @Test
    void dockerExecThroughTheGatewayGetsTheOutputThatFollowsItsHalfClose() throws Exception {
        // without -i the CLI half-closes right after the 101; the stand-in service answers only after that FIN
        Run run = dockerWithStdin(null, "exec", "live1", "sh", "-c", "anything");
        assertThat(run.out()).isEqualTo("hello from node-agent\n");
        assertThat(run.err()).isEqualTo("stdin was: \n");
        assertThat(run.exit()).as("the exec's exit code, read from /exec/{id}/json").isEqualTo(3);
        // created at container-service, started and inspected at the container's node
        assertThat(FakeServices.container.last("/containers/live1/exec")).isNotNull();
        assertThat(FakeServices.node.last("/exec/e-live1/start").header("Upgrade")).isEqualTo("tcp");
        assertThat(FakeServices.node.last("/exec/e-live1/json")).isNotNull();
    }

    @Test
    void dockerExecWithStdinPipesItThrough() throws Exception {
        Path input = home.resolve("stdin.txt");
        Files.writeString(input, "piped data\n");
        Run run = dockerWithStdin(input, "exec", "-i", "live2", "cat");
        assertThat(run.out()).isEqualTo("hello from node-agent\n");
        assertThat(run.err()).isEqualTo("stdin was: piped data\n\n");
        assertThat(run.exit()).isEqualTo(3);
    }

    private Run docker(String... args) throws Exception {
        return dockerWithStdin(null, args);
    }

    private Run dockerWithStdin(Path stdin, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(DOCKER.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("DOCKER_HOST", "tcp://127.0.0.1:" + server.port());
        // a home of its own: no config.json, contexts or credentials of the machine's user
        pb.environment().put("HOME", home.toString());
        pb.environment().remove("DOCKER_CONTEXT");
        pb.environment().remove("DOCKER_CONFIG");
        pb.environment().remove("DOCKER_API_VERSION");
        Path out = home.resolve("out.txt");
        Path err = home.resolve("err.txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.redirectInput(stdin == null ? new java.io.File("/dev/null") : stdin.toFile());
        Process p = pb.start();
        try {
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("docker " + String.join(" ", args) + " finished").isTrue();
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }
}
