package dev.berth.gateway.system;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.ExecCreateCmdResponse;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.Info;
import com.github.dockerjava.api.model.StreamType;
import com.github.dockerjava.api.model.Version;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import dev.berth.gateway.api.DockerApiServer;
import dev.berth.gateway.support.FakeServices;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.testcontainers.shaded.com.github.dockerjava.core.DefaultDockerClientConfig;
import org.testcontainers.shaded.com.github.dockerjava.core.DockerClientImpl;
import org.testcontainers.utility.ComparableVersion;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Testcontainers' Docker client (docker-java with the zerodep transport, as Testcontainers configures it) against
 * the gateway: its startup calls and its exec, which starts without Upgrade headers.
 */
@QuarkusTest
@QuarkusTestResource(value = FakeServices.class, restrictToAnnotatedClass = true)
class DockerJavaClientTest {

    @Inject
    DockerApiServer server;

    private DockerClient client;

    @BeforeEach
    void connect() {
        URI host = URI.create("tcp://127.0.0.1:" + server.port());
        DefaultDockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(host.toString())
                .withDockerTlsVerify(false)
                // what Testcontainers pings first
                .withApiVersion("1.44")
                .build();
        client = DockerClientImpl.getInstance(config, new ZerodepDockerHttpClient.Builder().dockerHost(host).build());
    }

    @AfterEach
    void close() throws Exception {
        client.close();
    }

    @Test
    void startupChecksPass() {
        client.pingCmd().exec();
        Version version = client.versionCmd().exec();
        assertThat(version.getApiVersion()).isEqualTo("1.51");
        // Testcontainers' own check: "Docker server version should be at least 1.6.0"
        assertThat(new ComparableVersion(version.getVersion()).isGreaterThanOrEqualTo("1.6.0")).isTrue();
        Info info = client.infoCmd().exec();
        assertThat(info.getOperatingSystem()).isNotBlank();
        assertThat(info.getMemTotal()).isPositive();
        assertThat(info.getContainers()).isEqualTo(3);
    }

    @Test
    void execWithoutUpgradeStreamsStdoutAndStderrAndTheExitCode() throws Exception {
        ExecCreateCmdResponse exec = client.execCreateCmd("live3").withAttachStdout(true).withAttachStderr(true)
                .withCmd("sh", "-c", "echo exec-out; echo exec-err >&2; exit 3").exec();
        StringBuilder stdout = new StringBuilder();
        StringBuilder stderr = new StringBuilder();
        boolean done = client.execStartCmd(exec.getId()).exec(new ResultCallback.Adapter<Frame>() {
            @Override
            public void onNext(Frame frame) {
                (frame.getStreamType() == StreamType.STDERR ? stderr : stdout)
                        .append(new String(frame.getPayload(), StandardCharsets.UTF_8));
            }
        }).awaitCompletion(30, TimeUnit.SECONDS);
        assertThat(done).isTrue();
        assertThat(stdout).hasToString("exec-out\n");
        assertThat(stderr).hasToString("exec-err\n");
        assertThat(client.inspectExecCmd(exec.getId()).exec().getExitCodeLong()).isEqualTo(3L);
        // it really was the variant without Upgrade headers
        assertThat(FakeServices.node.last("/exec/e-live3/start").header("Upgrade")).isNull();
    }
}
