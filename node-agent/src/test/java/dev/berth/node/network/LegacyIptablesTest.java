package dev.berth.node.network;

import dev.berth.node.network.NodeNetwork.Attachment;
import dev.berth.node.network.NodeNetwork.PortBinding;
import dev.berth.node.network.NodeNetwork.Spec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static dev.berth.node.network.NetTestSupport.httpGet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Hosts whose rules live in the legacy x_tables (older distributions, some Docker installs) get the same network. */
class LegacyIptablesTest {
    private static final String BRIDGE = "bntlegacy0";

    private final NetTestSupport procs = new NetTestSupport();
    private Path root;
    private String legacy;
    private BridgeNetwork network;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createTempDirectory("berth-net-legacy");
        legacy = Commands.require("iptables-legacy", "iptables");
        network = new BridgeNetwork(new NetworkConfig(root.resolve("lib"), root.resolve("run"), BRIDGE, "10.201.10.0/24",
                null, root.resolve("resolv.conf"), legacy));
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            procs.stopAll();
            network.removeBridge();
            assertThat(NetTestSupport.iptablesSave(legacy)).doesNotContain("BERTH-" + BRIDGE);
            assertThat(NetTestSupport.links()).doesNotContain(BRIDGE);
        } finally {
            NetTestSupport.deleteTree(root);
        }
    }

    @Test
    void publishedPortsWorkAndAreRemovedWithLegacyIptables() throws Exception {
        Attachment a = network.attach(NetTestSupport.randomId(), new Spec("bridge", List.of(new PortBinding(null, 0, 80, "tcp")), "l"));
        int port = a.ports().get(0).hostPort();
        assertThat(NetTestSupport.iptablesSave(legacy)).contains("-A BERTH-" + BRIDGE + " ", a.ipAddress() + ":80");

        Path www = NetTestSupport.webRoot(root, "legacy");
        procs.start("nsenter", "--net=" + a.netnsPath(), "busybox", "httpd", "-f", "-p", "80", "-h", www.toString());
        String body = await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .until(() -> httpGet("127.0.0.1", port, "/index.html"), b -> true);
        assertThat(body).isEqualTo("legacy");
        assertThat(httpGet(NetTestSupport.hostPrimaryAddress(), port, "/index.html")).isEqualTo("legacy");

        network.detach(a.containerId());
        assertThat(NetTestSupport.iptablesSave(legacy)).doesNotContain(a.ipAddress() + ":80");
    }
}
