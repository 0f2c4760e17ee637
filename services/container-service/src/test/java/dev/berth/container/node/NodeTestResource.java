package dev.berth.container.node;

import dev.berth.node.agent.AgentSettings;
import dev.berth.node.agent.NodeAgent;
import dev.berth.node.cgroup.FsCgroupManager;
import dev.berth.node.network.BridgeNetwork;
import dev.berth.node.network.NetworkConfig;
import dev.berth.node.runtime.ContainerState;
import dev.berth.testing.KafkaBroker;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A real node agent in the test JVM for container-service's {@code @QuarkusTest}s: the real runtime (the berth-shim
 * built from node-agent's sources, overlayfs, cgroups, a bridge {@value #BRIDGE} on {@value #SUBNET}), talking over the
 * shared Kafka broker, with roots under /tmp and a parent cgroup of its own. Layers come from a {@link BlobRegistry}
 * holding one busybox-static layer. {@link #stop()} removes what is left and checks that no mount stays.
 */
public class NodeTestResource implements QuarkusTestResourceLifecycleManager {
    static final String BRIDGE = "brtcs0";
    static final String SUBNET = "10.201.20.0/24";

    private BlobRegistry registry;
    private NodeAgent agent;
    private Path root;
    private String cgroupParent;

    @Override
    public Map<String, String> start() {
        try {
            BusyboxLayer layer = BusyboxLayer.build();
            registry = new BlobRegistry();
            registry.put(layer.digest(), layer.gzipped());
            root = Files.createTempDirectory(Path.of("/tmp"), "bcs");
            cgroupParent = "berth-cs-test-" + UUID.randomUUID().toString().substring(0, 8);
            String nodeId = "cs-node-" + UUID.randomUUID().toString().substring(0, 8);
            String shim = System.getProperty("berth.shim.path");
            if (shim == null || !Files.isExecutable(Path.of(shim))) {
                throw new IllegalStateException("berth-shim not built (berth.shim.path=" + shim + ")");
            }
            AgentSettings settings = new AgentSettings(nodeId, root.resolve("lib"), root.resolve("run"), Path.of(shim),
                    null, registry.url(), Duration.ofSeconds(1), KafkaBroker.shared().bootstrapServers(), "127.0.0.1",
                    0, 64, BRIDGE, SUBNET, cgroupParent, "latest");
            // the agent's threads (Kafka clients among them) load classes through the context class loader they
            // inherit: it must be the one that loaded the agent, not the application's
            Thread current = Thread.currentThread();
            ClassLoader previous = current.getContextClassLoader();
            current.setContextClassLoader(NodeAgent.class.getClassLoader());
            try {
                agent = NodeAgent.start(settings);
            } finally {
                current.setContextClassLoader(previous);
            }
            Map<String, String> c = new HashMap<>();
            c.put("berth.nodes.heartbeat-interval", "2s");
            c.put("berth.nodes.command-timeout", "60s");
            c.put("berth.test.node.id", nodeId);
            c.put("berth.test.node.state-root", settings.stateRoot().toString());
            c.put("berth.test.node.run-root", settings.runRoot().toString());
            c.put("berth.test.layer.digest", layer.digest());
            c.put("berth.test.layer.diffid", layer.diffId());
            c.put("berth.test.layer.size", Integer.toString(layer.gzipped().length));
            return c;
        } catch (IOException e) {
            stop();
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void stop() {
        try {
            if (agent != null) {
                for (ContainerState s : agent.runtime().list()) {
                    try {
                        agent.runtime().remove(s.id(), true);
                    } catch (IOException e) {
                        System.err.println("removing left-over container " + s.id() + ": " + e);
                    }
                }
                agent.close();
            }
            if (root != null) {
                new BridgeNetwork(new NetworkConfig(root.resolve("lib"), root.resolve("run"), BRIDGE, SUBNET, null,
                        null, null)).removeBridge();
                FsCgroupManager.detect(cgroupParent).removeParent();
                String mounts = Files.readString(Path.of("/proc/self/mountinfo"));
                if (mounts.contains(root.toString())) {
                    throw new IllegalStateException("mounts left under " + root + ":\n" + mounts);
                }
                try (Stream<Path> w = Files.walk(root)) {
                    for (Path p : w.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (registry != null) {
                registry.close();
            }
        }
    }
}
