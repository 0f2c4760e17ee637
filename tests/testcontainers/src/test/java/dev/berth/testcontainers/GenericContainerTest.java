package dev.berth.testcontainers;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a Testcontainers user does, against Berth's gateway ({@code DOCKER_HOST}): start a container from a local
 * image, wait for its log line, exec in it, copy files in and out, stop it, and find nothing left behind.
 *
 * <p>The image (env {@code BERTH_TC_IMAGE}, default {@code berth-tc-busybox:latest}) must already exist on the
 * platform: no registry is reachable, and Testcontainers pulls only when its inspect of the image fails.
 */
class GenericContainerTest {

    private static final DockerImageName IMAGE = DockerImageName.parse(
            System.getenv().getOrDefault("BERTH_TC_IMAGE", "berth-tc-busybox:latest"));

    @Test
    void startsWaitsForItsLogExecsCopiesAndStops(@TempDir Path dir) throws Exception {
        String containerId;
        DockerClient docker = DockerClientFactory.instance().client();
        try (GenericContainer<?> container = new GenericContainer<>(IMAGE)
                .withEnv("GREETING", "hello from berth")
                .withCommand("sh", "-c", "echo \"$GREETING: ready\"; exec sleep 300")
                .waitingFor(Wait.forLogMessage(".*hello from berth: ready.*\\n", 1)
                        .withStartupTimeout(Duration.ofSeconds(60)))) {
            container.start();
            containerId = container.getContainerId();
            assertThat(containerId).matches("[0-9a-f]{64}");
            assertThat(container.isRunning()).isTrue();
            assertThat(container.getLogs()).isEqualTo("hello from berth: ready\n");

            ExecResult ok = container.execInContainer("sh", "-c", "echo \"$GREETING\"; cat /etc/hostname");
            assertThat(ok.getExitCode()).isZero();
            assertThat(ok.getStdout()).isEqualTo("hello from berth\n" + containerId.substring(0, 12) + "\n");
            assertThat(ok.getStderr()).isEmpty();

            ExecResult failed = container.execInContainer("sh", "-c", "echo out; echo err >&2; exit 3");
            assertThat(failed.getExitCode()).isEqualTo(3);
            assertThat(failed.getStdout()).isEqualTo("out\n");
            assertThat(failed.getStderr()).isEqualTo("err\n");

            // a file in: its content, and the mode Testcontainers asked for
            Path in = dir.resolve("greeting.txt");
            Files.writeString(in, "copied in by Testcontainers\n", StandardCharsets.UTF_8);
            container.copyFileToContainer(MountableFile.forHostPath(in, 0640), "/tmp/in/greeting.txt");
            ExecResult seen = container.execInContainer("sh", "-c", "cat /tmp/in/greeting.txt; stat -c '%a %u' /tmp/in/greeting.txt");
            assertThat(seen.getExitCode()).isZero();
            assertThat(seen.getStdout()).isEqualTo("copied in by Testcontainers\n640 0\n");

            // a file out: one the container wrote, and the one copied in, byte for byte
            assertThat(container.execInContainer("sh", "-c", "printf 'made inside\\n' > /tmp/out.txt").getExitCode())
                    .isZero();
            String made = container.copyFileFromContainer("/tmp/out.txt", s -> new String(s.readAllBytes(),
                    StandardCharsets.UTF_8));
            assertThat(made).isEqualTo("made inside\n");
            Path back = dir.resolve("back.txt");
            container.copyFileFromContainer("/tmp/in/greeting.txt", back.toString());
            assertThat(Files.readString(back)).isEqualTo("copied in by Testcontainers\n");

            container.stop();
            assertThat(container.isRunning()).isFalse();
        }
        assertGone(docker, containerId);
    }

    @Test
    void aContainerWhoseLogNeverComesFailsToStartAndIsRemoved() {
        DockerClient docker = DockerClientFactory.instance().client();
        String mark = UUID.randomUUID().toString();
        try (GenericContainer<?> container = new GenericContainer<>(IMAGE)
                .withLabel("dev.berth.test", mark)
                .withCommand("sh", "-c", "echo something else; exec sleep 300")
                .waitingFor(Wait.forLogMessage(".*never printed.*\\n", 1).withStartupTimeout(Duration.ofSeconds(5)))
                .withStartupAttempts(1)) {
            assertThatThrownBy(container::start).hasMessageContaining("Container startup failed")
                    .hasStackTraceContaining("Timed out waiting for log output");
        }
        // Testcontainers reads the failed container's logs, then stops and removes it
        assertThat(docker.listContainersCmd().withShowAll(true).exec())
                .noneMatch(c -> c.getLabels() != null && mark.equals(c.getLabels().get("dev.berth.test")));
    }

    private static void assertGone(DockerClient docker, String containerId) {
        assertThatThrownBy(() -> docker.inspectContainerCmd(containerId).exec()).isInstanceOf(NotFoundException.class);
        assertThat(docker.listContainersCmd().withShowAll(true).exec())
                .noneMatch(c -> c.getId().equals(containerId));
    }
}
