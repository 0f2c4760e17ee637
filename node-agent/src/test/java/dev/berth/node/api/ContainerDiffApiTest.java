package dev.berth.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.events.Json;
import dev.berth.events.node.NodeCommand;
import dev.berth.events.node.NodeContainerSpec;
import dev.berth.events.node.NodeObservation;
import dev.berth.node.agent.AgentLifecycle;
import dev.berth.node.agent.AgentTestKit;
import dev.berth.node.agent.AgentTestResource;
import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code GET /containers/{id}/diff} and {@code /changes} on the node's data plane, against real containers started by
 * commands on Kafka: what a build's RUN step commits and what {@code docker diff} lists.
 */
@QuarkusTest
@QuarkusTestResource(BerthTestResource.class)
@QuarkusTestResource(AgentTestResource.class)
class ContainerDiffApiTest {
    @Inject
    AgentLifecycle lifecycle;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;
    @ConfigProperty(name = "berth.test.repository")
    String repository;
    @ConfigProperty(name = "berth.test.layer.digest")
    String digest;
    @ConfigProperty(name = "berth.test.layer.diffid")
    String diffId;

    private AgentTestKit.CommandBus commands;
    private AgentTestKit.Observations observations;
    private final List<String> created = new ArrayList<>();

    @BeforeEach
    void connect() throws Exception {
        AgentTestKit.createTopics(bootstrap);
        commands = new AgentTestKit.CommandBus(bootstrap);
        observations = new AgentTestKit.Observations(bootstrap);
        observations.await(node(), NodeObservation.NodeHeartbeat.class);
    }

    @AfterEach
    void removeContainers() throws Exception {
        try {
            for (String id : created) {
                UUID rm = commands.send(new NodeCommand.RemoveContainer(node(), id, true));
                assertThat(observations.await(id, NodeObservation.ContainerRemoved.class).causation()).isEqualTo(rm);
                AgentTestKit.assertNothingLeftOf(lifecycle.agent(), id);
            }
        } finally {
            commands.close();
            observations.close();
        }
    }

    private String node() {
        return lifecycle.agent().settings().nodeId();
    }

    private int port() {
        return lifecycle.agent().dataPlanePort();
    }

    private String run(String script) {
        NodeContainerSpec spec = AgentTestKit.busybox(repository, new NodeContainerSpec.Layer(diffId, digest, null, 0),
                List.of("sh", "-c", script), "none", false, false, null, false);
        String id = AgentTestKit.newId();
        created.add(id);
        UUID c = commands.send(new NodeCommand.CreateContainer(node(), id, spec));
        assertThat(observations.answer(id, c).payload()).isInstanceOf(NodeObservation.ContainerCreated.class);
        UUID s = commands.send(new NodeCommand.StartContainer(node(), id));
        assertThat(observations.answer(id, s).payload()).isInstanceOf(NodeObservation.ContainerStarted.class);
        return id;
    }

    /** Entry name to content (regular files) or type letter, in the tar's order. */
    private static Map<String, String> entries(byte[] tar) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                out.put(e.getName(), e.isDirectory() ? "dir" : e.isSymbolicLink() ? "-> " + e.getLinkName()
                        : e.isLink() ? "link " + e.getLinkName() : new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    @Test
    void theDiffOfAnExitedContainerIsALayerTarOfWhatItChanged() throws Exception {
        String id = run("echo built > /app.txt && rm /etc/group && mkdir -p /opt/out && echo 42 > /opt/out/answer"
                + " && echo extra >> /etc/passwd && ln -s /opt/out/answer /answer && echo temp > /tmp/t && rm /tmp/t");
        NodeObservation.ContainerExited exited = (NodeObservation.ContainerExited) observations
                .await(id, NodeObservation.ContainerExited.class).payload();
        assertThat(exited.exitCode()).isZero();

        try (RawHttp http = new RawHttp(port())) {
            RawHttp.Response r = http.request("GET", "/v1.44/containers/" + id + "/diff", Map.of(), null);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("Content-Type")).isEqualTo("application/x-tar");
            Map<String, String> e = entries(r.body());
            assertThat(e).containsExactly(
                    Map.entry("answer", "-> /opt/out/answer"),
                    Map.entry("app.txt", "built\n"),
                    Map.entry("etc/", "dir"),
                    Map.entry("etc/.wh.group", ""),
                    Map.entry("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nextra\n"),
                    Map.entry("opt/", "dir"),
                    Map.entry("opt/out/", "dir"),
                    Map.entry("opt/out/answer", "42\n"),
                    Map.entry("tmp/", "dir"));

            // same connection: the same diff again is the same bytes
            RawHttp.Response again = http.request("GET", "/containers/" + id + "/diff", Map.of(), null);
            assertThat(again.body()).isEqualTo(r.body());

            RawHttp.Response changes = http.request("GET", "/containers/" + id + "/changes", Map.of(), null);
            assertThat(changes.status()).isEqualTo(200);
            List<String> lines = new ArrayList<>();
            for (JsonNode c : Json.mapper().readTree(changes.body())) {
                lines.add("CAD".charAt(c.get("Kind").asInt()) + " " + c.get("Path").asText());
            }
            assertThat(lines).containsExactly("A /answer", "A /app.txt", "C /etc", "D /etc/group", "C /etc/passwd",
                    "A /opt", "A /opt/out", "A /opt/out/answer", "C /tmp");
        }
    }

    @Test
    void aRunningContainersDiffShowsWhatItHasWrittenSoFar() throws Exception {
        String id = run("echo ready > /state && exec sleep 600");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            try (RawHttp http = new RawHttp(port())) {
                RawHttp.Response r = http.request("GET", "/containers/" + id + "/diff", Map.of(), null);
                assertThat(r.status()).isEqualTo(200);
                // the runtime's mount points (/etc/hosts, /etc/hostname, /etc/resolv.conf) are not the container's
                assertThat(entries(r.body())).containsExactly(Map.entry("state", "ready\n"));
            }
        });
    }

    @Test
    void anUnknownContainerIsNotFound() throws Exception {
        try (RawHttp http = new RawHttp(port())) {
            for (String what : List.of("diff", "changes")) {
                RawHttp.Response r = http.request("GET", "/containers/nope/" + what, Map.of(), null);
                assertThat(r.status()).isEqualTo(404);
                assertThat(Json.mapper().readTree(r.body()).get("message").asText()).isEqualTo("No such container: nope");
            }
            RawHttp.Response post = http.request("POST", "/containers/nope/diff", Map.of(), new byte[0]);
            assertThat(post.status()).isEqualTo(405);
        }
    }
}
