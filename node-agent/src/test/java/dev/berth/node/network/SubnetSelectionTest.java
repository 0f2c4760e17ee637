package dev.berth.node.network;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.berth.node.network.NetTestSupport.exec;
import static dev.berth.node.network.NetTestSupport.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The bridge's subnet is chosen around the host's routes and kept across restarts. */
class SubnetSelectionTest {
    private static final String OCCUPIER = "bntoccupy0";
    private static final String BRIDGE = "bntauto0";

    private Path root;
    private BridgeNetwork network;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createTempDirectory("berth-net-subnet");
        // an interface of the host in 172.17.0.0/16, as a Docker daemon's docker0 would be
        sh("ip", "link", "add", OCCUPIER, "type", "bridge");
        sh("ip", "addr", "add", "172.17.200.1/24", "dev", OCCUPIER);
        sh("ip", "link", "set", OCCUPIER, "up");
        network = new BridgeNetwork(new NetworkConfig(root.resolve("lib"), root.resolve("run"), BRIDGE, null, null,
                root.resolve("resolv.conf"), null));
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            network.removeBridge();
            assertThat(NetTestSupport.links()).doesNotContain(BRIDGE);
            assertThat(NetTestSupport.iptablesSave(network.iptablesBinary())).doesNotContain("BERTH-" + BRIDGE);
        } finally {
            exec("ip", "link", "del", OCCUPIER);
            NetTestSupport.deleteTree(root);
        }
    }

    @Test
    void theChosenSubnetAvoidsExistingRoutesAndIsKeptAcrossRestarts() throws Exception {
        BridgeNetwork.Bridge bridge = network.bridge();

        Subnet chosen = Subnet.parse(bridge.subnet() + "/" + bridge.prefixLength());
        assertThat(chosen).isNotEqualTo(Subnet.parse("172.17.0.0/16"));
        assertThat(chosen.overlaps(Subnet.parse("172.17.200.0/24"))).isFalse();
        for (BridgeNetwork.Route r : BridgeNetwork.routes()) {
            if (!r.iface().equals(BRIDGE)) {
                assertThat(r.destination().overlaps(chosen)).as("route %s on %s", r.destination(), r.iface()).isFalse();
            }
        }
        assertThat(bridge.gateway()).isEqualTo(Subnet.format(chosen.address(1)));
        assertThat(sh("ip", "-4", "-o", "addr", "show", "dev", BRIDGE))
                .contains("inet " + bridge.gateway() + "/" + bridge.prefixLength());
        assertThat(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_forward")).get(0).trim()).isEqualTo("1");
        assertThat(Files.readAllLines(Path.of("/proc/sys/net/ipv4/conf", BRIDGE, "route_localnet")).get(0).trim()).isEqualTo("1");

        // a restarted agent keeps the bridge as it is
        BridgeNetwork restarted = new BridgeNetwork(network.config());
        assertThat(restarted.bridge()).isEqualTo(bridge);

        // after a reboot (the bridge is gone, the state directory is not) the same subnet comes back
        sh("ip", "link", "del", BRIDGE);
        assertThat(new BridgeNetwork(network.config()).bridge()).isEqualTo(bridge);
    }

    @Test
    void aBridgeCarryingAnotherSubnetThanConfiguredIsAnErrorNotRenumbered() throws Exception {
        BridgeNetwork.Bridge bridge = network.bridge();
        BridgeNetwork other = new BridgeNetwork(network.config().withBridge(BRIDGE, "10.201.9.0/24"));

        assertThatThrownBy(other::bridge).isInstanceOf(IOException.class)
                .hasMessageContaining("bridge " + BRIDGE + " has the address " + bridge.gateway())
                .hasMessageContaining("subnet 10.201.9.0/24 is configured");
        assertThat(sh("ip", "-4", "-o", "addr", "show", "dev", BRIDGE)).contains("inet " + bridge.gateway() + "/");
    }
}
