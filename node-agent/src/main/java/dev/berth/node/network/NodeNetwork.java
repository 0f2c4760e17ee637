package dev.berth.node.network;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A container's network on this node: the default bridge (a bridge, a veth per container into its network
 * namespace, an address from the node's range, default route, outbound NAT, published ports), or host, or none.
 *
 * <p>Failure modes: {@link IOException} naming the step (e.g. "Bind for 0.0.0.0:8080 failed: port is already
 * allocated", or the failing command with its stderr); {@link InvalidNetworkSpecException} (a subtype) when the spec
 * itself is wrong (unknown mode, bad port, protocol or host IP), which is the client's error. A failed
 * {@link #attach} removes whatever it set up (netns, veth, address, rules).
 */
public interface NodeNetwork {

    /**
     * Makes the network for a container that is about to start. For {@code bridge} and {@code none} a new network
     * namespace is created and bind-mounted at {@link Attachment#netnsPath()}; the process joins it with setns. For
     * {@code host} there is no namespace (netnsPath null).
     */
    Attachment attach(String containerId, Spec spec) throws IOException;

    /** Removes the container's namespace, veth, address and port rules; no error if they are already gone. */
    void detach(String containerId) throws IOException;

    /** The attachment of a container that is set up (after an agent restart), or null. */
    Attachment find(String containerId) throws IOException;

    /**
     * @param mode     "bridge" (also "default"), "host" or "none"
     * @param ports    published ports
     * @param hostname the container's hostname (for /etc/hosts)
     */
    record Spec(String mode, List<PortBinding> ports, String hostname) {
    }

    /**
     * A published port: {@code -p [hostIp:]hostPort:containerPort[/proto]}; hostPort 0 means a random free one,
     * hostIp null or "" means all addresses.
     */
    record PortBinding(String hostIp, int hostPort, int containerPort, String protocol) {
    }

    /**
     * What a container got: the namespace to join, its address and gateway (null for host/none), the ports as
     * actually bound (random ones resolved), and the /etc/resolv.conf content to give it.
     */
    record Attachment(String containerId, String mode, Path netnsPath, String ipAddress, int prefixLength,
                      String gateway, String macAddress, String bridge, List<PortBinding> ports, String resolvConf) {
    }
}
