package dev.berth.node.network;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Settings of the node's default bridge network.
 *
 * @param stateRoot      persistent state ({@code /var/lib/berth}); the bridge's subnet is kept under
 *                       {@code <stateRoot>/network/<bridge>/} so it stays the same across reboots
 * @param runRoot        runtime state ({@code /run/berth}); namespaces are bound at {@code <runRoot>/netns/<id>}
 *                       and endpoints (address, veth, ports) recorded under {@code <runRoot>/network/<bridge>/}
 * @param bridgeName     the Linux bridge (at most 15 characters), {@code berth0} by default
 * @param subnet         the bridge's IPv4 subnet in CIDR form, or null to pick the first candidate that collides
 *                       with no route of the host
 * @param candidates     the subnets tried in order when {@code subnet} is null
 * @param hostResolvConf the host's resolver configuration, {@code /etc/resolv.conf}
 * @param iptables       the iptables binary to use, or null to detect the flavour the host's rules use
 */
public record NetworkConfig(Path stateRoot, Path runRoot, String bridgeName, String subnet, List<String> candidates,
                            Path hostResolvConf, String iptables) {

    public static final String DEFAULT_BRIDGE = "berth0";
    private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,14}");

    public NetworkConfig {
        if (stateRoot == null || runRoot == null) {
            throw new IllegalArgumentException("stateRoot and runRoot are required");
        }
        if (runRoot.toString().chars().anyMatch(Character::isWhitespace)) {
            // namespace paths go into iproute2 batch lines, which split on blanks
            throw new IllegalArgumentException("runRoot must not contain blanks: \"" + runRoot + "\"");
        }
        if (bridgeName == null || !IFNAME.matcher(bridgeName).matches()) {
            throw new IllegalArgumentException("invalid bridge name \"" + bridgeName
                    + "\" (1-15 characters: letters, digits, '_', '.', '-')");
        }
        if (subnet != null) {
            Subnet s = Subnet.parse(subnet);
            if (s.prefixLength() > 30) {
                throw new IllegalArgumentException("subnet " + subnet + " is too small for a bridge");
            }
        }
        candidates = List.copyOf(candidates == null || candidates.isEmpty() ? defaultCandidates() : candidates);
        candidates.forEach(Subnet::parse);
        if (hostResolvConf == null) {
            hostResolvConf = Path.of("/etc/resolv.conf");
        }
    }

    /** {@code /var/lib/berth}, {@code /run/berth}, bridge {@code berth0}, automatic subnet. */
    public static NetworkConfig defaults() {
        return new NetworkConfig(Path.of("/var/lib/berth"), Path.of("/run/berth"), DEFAULT_BRIDGE, null, null, null, null);
    }

    /** Docker's default pools: 172.17.0.0/16 ... 172.31.0.0/16, then 192.168.0.0/16 cut into /20s. */
    public static List<String> defaultCandidates() {
        List<String> list = new ArrayList<>();
        for (int b = 17; b <= 31; b++) {
            list.add("172." + b + ".0.0/16");
        }
        for (int c = 0; c < 256; c += 16) {
            list.add("192.168." + c + ".0/20");
        }
        return list;
    }

    public NetworkConfig withRoots(Path stateRoot, Path runRoot) {
        return new NetworkConfig(stateRoot, runRoot, bridgeName, subnet, candidates, hostResolvConf, iptables);
    }

    public NetworkConfig withBridge(String bridgeName, String subnet) {
        return new NetworkConfig(stateRoot, runRoot, bridgeName, subnet, candidates, hostResolvConf, iptables);
    }

    public NetworkConfig withCandidates(List<String> candidates) {
        return new NetworkConfig(stateRoot, runRoot, bridgeName, subnet, candidates, hostResolvConf, iptables);
    }

    public NetworkConfig withHostResolvConf(Path hostResolvConf) {
        return new NetworkConfig(stateRoot, runRoot, bridgeName, subnet, candidates, hostResolvConf, iptables);
    }

    public NetworkConfig withIptables(String iptables) {
        return new NetworkConfig(stateRoot, runRoot, bridgeName, subnet, candidates, hostResolvConf, iptables);
    }

    /**
     * The prefix of Berth's iptables chains for this bridge: {@code BERTH} for the default bridge, {@code BERTH-<bridge>}
     * for any other, so that several agents (or tests) on one host never share a chain.
     */
    public String chainPrefix() {
        return bridgeName.equals(DEFAULT_BRIDGE) ? "BERTH" : "BERTH-" + bridgeName;
    }
}
