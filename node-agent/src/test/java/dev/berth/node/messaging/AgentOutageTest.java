package dev.berth.node.messaging;

import dev.berth.events.node.NodeCommand;
import dev.berth.events.node.NodeContainerSpec;
import dev.berth.events.node.NodeObservation;
import dev.berth.node.TestImages;
import dev.berth.node.agent.AgentSettings;
import dev.berth.node.agent.AgentTestKit;
import dev.berth.node.agent.NodeAgent;
import dev.berth.node.cgroup.FsCgroupManager;
import dev.berth.node.images.RegistryServer;
import dev.berth.node.network.BridgeNetwork;
import dev.berth.node.network.NetworkConfig;
import dev.berth.testing.KafkaBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Nothing the node observes is lost when Kafka or the agent itself is down: a private broker is stopped and started
 * again, an agent is closed and a new one opened over the same roots.
 */
class AgentOutageTest {
    private static final String BRIDGE = "brtag1";
    private static final String SUBNET = "10.201.14.0/24";
    private static KafkaBroker broker;
    private static RegistryServer registry;
    private static Path root;
    private static String cgroupParent;
    private static NodeContainerSpec.Layer layer;

    @BeforeAll
    static void up() throws Exception {
        broker = KafkaBroker.startLocal();
        registry = RegistryServer.start();
        TestImages.Layer busybox = TestImages.busybox();
        byte[] blob = busybox.gzipped();
        layer = new NodeContainerSpec.Layer(busybox.diffId(), registry.pushBlob("test/busybox", blob), null, blob.length);
        root = Files.createTempDirectory(Path.of("/tmp"), "bao");
        cgroupParent = "berth-outage-" + UUID.randomUUID().toString().substring(0, 8);
        AgentTestKit.createTopics(broker.bootstrapServers());
    }

    @AfterAll
    static void down() throws Exception {
        try {
            if (root != null) {
                new BridgeNetwork(new NetworkConfig(root.resolve("lib"), root.resolve("run"), BRIDGE, SUBNET, null, null,
                        null)).removeBridge();
                FsCgroupManager.detect(cgroupParent).removeParent();
                assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(root.toString());
                try (Stream<Path> w = Files.walk(root)) {
                    for (Path p : w.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        } finally {
            if (registry != null) {
                registry.close();
            }
            if (broker != null) {
                broker.close();
            }
        }
    }

    private static AgentSettings settings(String node, String dir) {
        return new AgentSettings(node, root.resolve(dir).resolve("lib"), root.resolve(dir).resolve("run"),
                Path.of(System.getProperty("berth.shim.path")), null, registry.url(), Duration.ofMillis(500),
                broker.bootstrapServers(), "127.0.0.1", 0, 16, BRIDGE, SUBNET, cgroupParent, "latest");
    }

    private static NodeContainerSpec waitsForGo() {
        return AgentTestKit.busybox("test/busybox", layer,
                List.of("sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 5"), "none", false, false, null,
                false);
    }

    @Test
    void anExitWhileKafkaIsDownIsReportedWhenItIsBack() throws Exception {
        String node = "outage-" + UUID.randomUUID().toString().substring(0, 8);
        String id = AgentTestKit.newId();
        try (NodeAgent agent = NodeAgent.start(settings(node, "kafka"));
             AgentTestKit.CommandBus commands = new AgentTestKit.CommandBus(broker.bootstrapServers());
             AgentTestKit.Observations observations = new AgentTestKit.Observations(broker.bootstrapServers())) {
            observations.await(node, NodeObservation.NodeHeartbeat.class);
            commands.send(new NodeCommand.CreateContainer(node, id, waitsForGo()));
            commands.send(new NodeCommand.StartContainer(node, id));
            observations.await(id, NodeObservation.ContainerStarted.class);

            broker.stop();
            Files.createFile(agent.settings().runRoot().resolve("containers").resolve(id).resolve("rootfs/tmp/go"));
            await().atMost(Duration.ofSeconds(30)).until(() -> agent.outboxPending() > 0);
            assertThat(Files.readString(agent.settings().stateRoot().resolve("agent/outbox.log")))
                    .contains("dev.berth.node.container-exited.v1");

            broker.start();
            NodeObservation.ContainerExited exited = (NodeObservation.ContainerExited) observations
                    .await(id, NodeObservation.ContainerExited.class).payload();
            assertThat(exited.exitCode()).isEqualTo(5);
            await().atMost(Duration.ofSeconds(30)).until(() -> agent.outboxPending() == 0);

            UUID rm = commands.send(new NodeCommand.RemoveContainer(node, id, true));
            assertThat(observations.await(id, NodeObservation.ContainerRemoved.class).causation()).isEqualTo(rm);
            AgentTestKit.assertNothingLeftOf(agent, id);
        } finally {
            if (!broker.isRunning()) {
                broker.start();
            }
        }
    }

    @Test
    void anExitWhileTheAgentIsDownIsReportedAtRecovery() throws Exception {
        String node = "recovery-" + UUID.randomUUID().toString().substring(0, 8);
        String id = AgentTestKit.newId();
        AgentSettings s = settings(node, "agent");
        try (AgentTestKit.CommandBus commands = new AgentTestKit.CommandBus(broker.bootstrapServers());
             AgentTestKit.Observations observations = new AgentTestKit.Observations(broker.bootstrapServers())) {
            int pid;
            try (NodeAgent first = NodeAgent.start(s)) {
                observations.await(node, NodeObservation.NodeHeartbeat.class);
                commands.send(new NodeCommand.CreateContainer(node, id, waitsForGo()));
                commands.send(new NodeCommand.StartContainer(node, id));
                pid = ((NodeObservation.ContainerStarted) observations.await(id, NodeObservation.ContainerStarted.class)
                        .payload()).pid();
            }
            // the agent is gone; the container (kept by its shim) finishes meanwhile
            Files.createFile(s.runRoot().resolve("containers").resolve(id).resolve("rootfs/tmp/go"));
            await().atMost(Duration.ofSeconds(30)).until(() -> !Files.exists(Path.of("/proc/" + pid)));
            assertThat(observations.of(id)).noneMatch(o -> o.payload() instanceof NodeObservation.ContainerExited);

            try (NodeAgent second = NodeAgent.start(s)) {
                AgentTestKit.Seen exited = observations.await(id, NodeObservation.ContainerExited.class);
                assertThat(((NodeObservation.ContainerExited) exited.payload()).exitCode()).isEqualTo(5);
                assertThat(exited.causation()).isNull();
                AgentTestKit.Seen state = observations.await(id, NodeObservation.ContainerStateReported.class);
                assertThat(((NodeObservation.ContainerStateReported) state.payload()).status()).isEqualTo("exited");
                List<AgentTestKit.Seen> all = observations.of(id);
                assertThat(all.indexOf(exited)).isLessThan(all.indexOf(state));

                UUID rm = commands.send(new NodeCommand.RemoveContainer(node, id, false));
                assertThat(observations.await(id, NodeObservation.ContainerRemoved.class).causation()).isEqualTo(rm);
                AgentTestKit.assertNothingLeftOf(second, id);
            }
        }
    }
}
