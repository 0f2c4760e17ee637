package dev.berth.node.agent;

import dev.berth.node.TestImages;
import dev.berth.node.cgroup.FsCgroupManager;
import dev.berth.node.images.RegistryServer;
import dev.berth.node.network.BridgeNetwork;
import dev.berth.node.network.NetworkConfig;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The node side of the agent's {@code @QuarkusTest}s: a real registry holding a busybox-static layer, state and run
 * roots of its own under /tmp, its own bridge (brtag0, 10.201.13.0/24) and parent cgroup. Everything is removed in
 * {@link #stop()}, after the application (and so the agent) has stopped.
 */
public class AgentTestResource implements QuarkusTestResourceLifecycleManager {
    static final String BRIDGE = "brtag0";
    static final String SUBNET = "10.201.13.0/24";
    static final String REPOSITORY = "test/busybox";

    private RegistryServer registry;
    private Path root;
    private String cgroupParent;

    @Override
    public Map<String, String> start() {
        try {
            registry = RegistryServer.start();
            TestImages.Layer busybox = TestImages.busybox();
            byte[] blob = busybox.gzipped();
            String digest = registry.pushBlob(REPOSITORY, blob);
            root = Files.createTempDirectory(Path.of("/tmp"), "bag");
            cgroupParent = "berth-agent-test-" + UUID.randomUUID().toString().substring(0, 8);
            Map<String, String> c = new HashMap<>();
            c.put("berth.node.id", "agent-test-" + UUID.randomUUID().toString().substring(0, 8));
            c.put("berth.node.state-root", root.resolve("lib").toString());
            c.put("berth.node.run-root", root.resolve("run").toString());
            c.put("berth.node.registry-url", registry.url());
            c.put("berth.node.data-plane.host", "127.0.0.1");
            c.put("berth.node.data-plane.port", "0");
            c.put("berth.node.bridge.name", BRIDGE);
            c.put("berth.node.bridge.subnet", SUBNET);
            c.put("berth.node.cgroup-parent", cgroupParent);
            c.put("berth.node.heartbeat-interval", "1s");
            c.put("quarkus.http.test-port", "0");
            c.put("berth.test.repository", REPOSITORY);
            c.put("berth.test.layer.digest", digest);
            c.put("berth.test.layer.diffid", busybox.diffId());
            c.put("berth.test.layer.size", Long.toString(blob.length));
            c.put("berth.test.registry-log-root", root.toString());
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void stop() {
        try {
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
