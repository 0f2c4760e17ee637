package dev.berth.node.agent;

import dev.berth.events.node.NodeCommand;
import dev.berth.events.node.NodeContainerSpec;
import dev.berth.events.node.NodeObservation;
import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent as a service: commands on Kafka, observations back, layers from a real registry, containers on the real
 * kernel.
 */
@QuarkusTest
@QuarkusTestResource(BerthTestResource.class)
@QuarkusTestResource(AgentTestResource.class)
class NodeAgentTest {
    @Inject
    AgentLifecycle lifecycle;
    @io.quarkus.test.common.http.TestHTTPResource("/q/health/ready")
    java.net.URL readiness;
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
        // the node announces itself only once its command consumer is assigned
        try {
            observations.await(node(), NodeObservation.NodeHeartbeat.class);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("no heartbeat; relay: " + lifecycle.agent().outboxError() + "; ready: "
                    + lifecycle.agent().ready() + "; seen: " + observations.summary(), e);
        }
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

    private NodeContainerSpec.Layer layer() {
        return new NodeContainerSpec.Layer(diffId, digest, "application/vnd.docker.image.rootfs.diff.tar.gzip", 0);
    }

    private NodeContainerSpec spec(String... cmd) {
        return AgentTestKit.busybox(repository, layer(), List.of(cmd), "none", false, false, null, false);
    }

    private String create(NodeContainerSpec spec) {
        String id = AgentTestKit.newId();
        created.add(id);
        UUID c = commands.send(new NodeCommand.CreateContainer(node(), id, spec));
        assertThat(observations.answer(id, c).payload()).isInstanceOf(NodeObservation.ContainerCreated.class);
        return id;
    }

    @Test
    void aCommandCreatesAndStartsABusyboxContainerFromTheRegistryAndItsExitIsReported() {
        String id = AgentTestKit.newId();
        created.add(id);
        UUID create = commands.send(new NodeCommand.CreateContainer(node(), id, spec("sh", "-c", "exit 3")));
        AgentTestKit.Seen createdSeen = observations.answer(id, create);
        assertThat(createdSeen.payload()).isInstanceOf(NodeObservation.ContainerCreated.class);
        assertThat(createdSeen.key()).isEqualTo(id);
        assertThat(createdSeen.envelope().type()).isEqualTo("dev.berth.node.container-created.v1");
        assertThat(createdSeen.envelope().source()).isEqualTo("/node-agent/" + node());
        // the layer came from the registry: this node's fresh store has it now
        assertThat(lifecycle.agent().snapshotter().has(diffId)).isTrue();

        UUID start = commands.send(new NodeCommand.StartContainer(node(), id));
        AgentTestKit.Seen started = observations.await(id, NodeObservation.ContainerStarted.class);
        assertThat(started.causation()).isEqualTo(start);
        assertThat(started.envelope().correlationId()).isEqualTo(start);
        assertThat(((NodeObservation.ContainerStarted) started.payload()).pid()).isPositive();
        AgentTestKit.Seen exited = observations.await(id, NodeObservation.ContainerExited.class);
        NodeObservation.ContainerExited e = (NodeObservation.ContainerExited) exited.payload();
        assertThat(e.exitCode()).isEqualTo(3);
        assertThat(e.willRestart()).isFalse();
        assertThat(e.oomKilled()).isFalse();
        List<AgentTestKit.Seen> all = observations.of(id);
        assertThat(all.indexOf(started)).isLessThan(all.indexOf(exited));
        assertThat(exited.envelope().sequence()).isGreaterThan(started.envelope().sequence());
    }

    @Test
    void aRedeliveredCommandChangesNothing() {
        String id = AgentTestKit.newId();
        created.add(id);
        UUID create = UUID.randomUUID();
        NodeCommand.CreateContainer c = new NodeCommand.CreateContainer(node(), id, spec("sh", "-c", "exit 0"));
        commands.send(c, create);
        observations.answer(id, create);
        UUID start = UUID.randomUUID();
        commands.send(new NodeCommand.StartContainer(node(), id), start);
        observations.await(id, NodeObservation.ContainerExited.class);
        // the same two commands again, then a marker on the same key (so the same partition, after them)
        commands.send(c, create);
        commands.send(new NodeCommand.StartContainer(node(), id), start);
        UUID marker = commands.send(new NodeCommand.PauseContainer(node(), id));
        AgentTestKit.Seen answer = observations.answer(id, marker);
        assertThat(answer.payload()).isInstanceOfSatisfying(NodeObservation.CommandFailed.class,
                f -> assertThat(f.status()).isEqualTo(409));
        assertThat(observations.of(id).stream().filter(s -> create.equals(s.causation()))).hasSize(1);
        assertThat(observations.of(id).stream().filter(s -> start.equals(s.causation()))).hasSize(1);
        assertThat(observations.of(id).stream().filter(s -> s.payload() instanceof NodeObservation.ContainerExited))
                .hasSize(1);
    }

    @Test
    void commandsForAnotherNodeAreLeftAlone() {
        String id = AgentTestKit.newId();
        UUID other = commands.send(new NodeCommand.CreateContainer("some-other-node", id, spec("true")));
        String mine = create(spec("true"));
        assertThat(observations.of(id)).noneMatch(s -> other.equals(s.causation()));
        assertThat(lifecycle.agent().runtime().list()).noneMatch(s -> s.id().equals(id));
        assertThat(mine).isNotNull();
    }

    @Test
    void aMissingExecutableIsAStartFailureWithDockers127() {
        String id = create(spec("no-such-program", "x"));
        UUID start = commands.send(new NodeCommand.StartContainer(node(), id));
        AgentTestKit.Seen answer = observations.answer(id, start);
        assertThat(answer.payload()).isInstanceOfSatisfying(NodeObservation.ContainerStartFailed.class, f -> {
            assertThat(f.status()).isEqualTo(400);
            assertThat(f.exitCode()).isEqualTo(127);
            assertThat(f.message()).contains("no-such-program").contains("executable file not found");
        });
    }

    @Test
    void anImageLayerTheRegistryDoesNotHaveIs404() {
        String id = AgentTestKit.newId();
        String absent = "sha256:" + "0f".repeat(32);
        NodeContainerSpec s = AgentTestKit.busybox(repository, new NodeContainerSpec.Layer(absent, absent, null, 0),
                List.of("true"), "none", false, false, null, false);
        UUID create = commands.send(new NodeCommand.CreateContainer(node(), id, s));
        assertThat(observations.answer(id, create).payload()).isInstanceOfSatisfying(
                NodeObservation.CommandFailed.class, f -> {
                    assertThat(f.status()).isEqualTo(404);
                    assertThat(f.commandType()).isEqualTo("dev.berth.node.create-container-requested.v1");
                });
        assertThat(lifecycle.agent().runtime().list()).noneMatch(st -> st.id().equals(id));
    }

    @Test
    void onFailureTwoRestartsTwiceAndReportsEachRestart() {
        NodeContainerSpec s = AgentTestKit.busybox(repository, layer(), List.of("sh", "-c", "exit 3"), "none", false,
                false, new NodeContainerSpec.RestartPolicy("on-failure", 2), false);
        String id = create(s);
        commands.send(new NodeCommand.StartContainer(node(), id));
        observations.await(id, NodeObservation.ContainerExited.class, e -> !e.willRestart());
        List<NodeObservation> facts = observations.of(id).stream().map(AgentTestKit.Seen::payload)
                .filter(p -> p instanceof NodeObservation.ContainerExited || p instanceof NodeObservation.ContainerRestarted)
                .toList();
        assertThat(facts).hasSize(5);
        assertThat(facts.get(0)).isInstanceOfSatisfying(NodeObservation.ContainerExited.class,
                e -> assertThat(e.willRestart()).isTrue());
        assertThat(facts.get(1)).isInstanceOfSatisfying(NodeObservation.ContainerRestarted.class,
                r -> assertThat(r.restartCount()).isEqualTo(1));
        assertThat(facts.get(2)).isInstanceOfSatisfying(NodeObservation.ContainerExited.class,
                e -> assertThat(e.willRestart()).isTrue());
        assertThat(facts.get(3)).isInstanceOfSatisfying(NodeObservation.ContainerRestarted.class,
                r -> assertThat(r.restartCount()).isEqualTo(2));
        assertThat(facts.get(4)).isInstanceOfSatisfying(NodeObservation.ContainerExited.class, e -> {
            assertThat(e.exitCode()).isEqualTo(3);
            assertThat(e.willRestart()).isFalse();
        });
    }

    @Test
    void autoRemoveRemovesTheContainerAfterItExits() {
        NodeContainerSpec s = AgentTestKit.busybox(repository, layer(), List.of("true"), "none", false, false, null, true);
        String id = create(s);
        created.remove(id);
        UUID start = commands.send(new NodeCommand.StartContainer(node(), id));
        AgentTestKit.Seen removed = observations.await(id, NodeObservation.ContainerRemoved.class);
        assertThat(((NodeObservation.ContainerRemoved) removed.payload()).autoRemoved()).isTrue();
        assertThat(observations.of(id).stream().map(AgentTestKit.Seen::payload))
                .anyMatch(p -> p instanceof NodeObservation.ContainerExited x && x.exitCode() == 0);
        assertThat(lifecycle.agent().runtime().list()).noneMatch(st -> st.id().equals(id));
        assertThat(start).isNotNull();
    }

    @Test
    void stopAnswersWithTheExitAndPauseUnpauseAreReported() {
        String id = create(spec("sleep", "300"));
        commands.send(new NodeCommand.StartContainer(node(), id));
        observations.await(id, NodeObservation.ContainerStarted.class);
        UUID pause = commands.send(new NodeCommand.PauseContainer(node(), id));
        assertThat(observations.answer(id, pause).payload()).isInstanceOf(NodeObservation.ContainerPaused.class);
        UUID unpause = commands.send(new NodeCommand.UnpauseContainer(node(), id));
        assertThat(observations.answer(id, unpause).payload()).isInstanceOf(NodeObservation.ContainerUnpaused.class);
        UUID stop = commands.send(new NodeCommand.StopContainer(node(), id, 1));
        assertThat(observations.answer(id, stop).payload()).isInstanceOfSatisfying(NodeObservation.ContainerExited.class,
                e -> assertThat(e.exitCode()).isEqualTo(137));
        UUID again = commands.send(new NodeCommand.StopContainer(node(), id, 1));
        assertThat(observations.answer(id, again).payload()).isInstanceOfSatisfying(NodeObservation.CommandFailed.class,
                f -> assertThat(f.status()).isEqualTo(304));
    }


    @Test
    void heartbeatsTellWhereTheDataPlaneIsAndWhatTheNodeHas() {
        NodeObservation.NodeHeartbeat hb = (NodeObservation.NodeHeartbeat) observations
                .await(node(), NodeObservation.NodeHeartbeat.class).payload();
        assertThat(hb.address()).endsWith(":" + lifecycle.agent().dataPlanePort());
        assertThat(hb.cpus()).isPositive();
        assertThat(hb.memoryBytes()).isPositive();
        assertThat(hb.cgroupMode()).isIn("v1", "v2", "hybrid");
    }

    @Test
    void aCommandThatCannotBeReadIsAnsweredWith400() {
        String id = AgentTestKit.newId();
        UUID bad = commands.sendRaw(node(), id, "dev.berth.node.start-container-requested.v1", "{\"nodeId\": [1, 2]}");
        AgentTestKit.Seen answer = observations.answer(id, bad);
        assertThat(answer.payload()).isInstanceOfSatisfying(NodeObservation.CommandFailed.class,
                f -> assertThat(f.status()).isEqualTo(400));
        UUID unknown = commands.sendRaw(node(), id, "dev.berth.node.teleport-container-requested.v1", "{}");
        assertThat(observations.answer(id, unknown).payload()).isInstanceOfSatisfying(NodeObservation.CommandFailed.class,
                f -> assertThat(f.message()).contains("unknown event type"));
    }

    @Test
    void theReadinessCheckIsUpWithTheNodesFacts() throws Exception {
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(readiness.toURI()).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"status\": \"UP\"").contains(node())
                .contains("127.0.0.1:" + lifecycle.agent().dataPlanePort());
    }
}
