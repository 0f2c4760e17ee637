package dev.berth.node.network;

import dev.berth.node.network.NodeNetwork.Attachment;
import dev.berth.node.network.NodeNetwork.PortBinding;
import dev.berth.node.network.NodeNetwork.Spec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An attach that fails late (the namespace, veth, address and a first rule already made) leaves nothing behind. The
 * failure is real: an iptables that refuses DNAT rules, in front of the host's own.
 */
class AttachRollbackTest {
    private static final String BRIDGE = "bntfail0";

    private Path root;
    private String realIptables;
    private BridgeNetwork network;

    @BeforeEach
    void setUp() throws Exception {
        root = Files.createTempDirectory("berth-net-rollback");
        realIptables = Iptables.detect(null).binary();
        Path wrapper = root.resolve("iptables-no-dnat");
        NetTestSupport.write(wrapper, "#!/bin/sh\n"
                + "for a in \"$@\"; do if [ \"$a\" = --to-destination ]; then echo 'DNAT refused by test' >&2; exit 1; fi; done\n"
                + "exec " + realIptables + " \"$@\"\n", true);
        network = new BridgeNetwork(new NetworkConfig(root.resolve("lib"), root.resolve("run"), BRIDGE, "10.201.8.0/24",
                null, root.resolve("resolv.conf"), wrapper.toString()));
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            network.removeBridge();
            assertThat(NetTestSupport.links()).doesNotContain(BRIDGE);
            assertThat(NetTestSupport.iptablesSave(realIptables)).doesNotContain("BERTH-" + BRIDGE);
        } finally {
            NetTestSupport.deleteTree(root);
        }
    }

    @Test
    void aLateFailureUndoesNamespaceVethAddressAndRules() throws Exception {
        String id = NetTestSupport.randomId();

        assertThatThrownBy(() -> network.attach(id, new Spec("bridge", List.of(new PortBinding(null, 0, 80, "tcp")), "x")))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("DNAT refused by test");

        assertThat(network.find(id)).isNull();
        assertThat(network.netnsPath(id)).doesNotExist();
        assertThat(Netns.isMounted(network.netnsPath(id))).isFalse();
        assertThat(NetTestSupport.bridgePorts(BRIDGE)).isEmpty();
        String rules = NetTestSupport.iptablesSave(realIptables);
        assertThat(rules).doesNotContain("berth:" + id).doesNotContain("10.201.8.2/32");

        // the address went back to the pool
        Attachment next = network.attach(NetTestSupport.randomId(), new Spec("bridge", List.of(), "y"));
        assertThat(next.ipAddress()).isEqualTo("10.201.8.2");
        network.detach(next.containerId());
    }
}
