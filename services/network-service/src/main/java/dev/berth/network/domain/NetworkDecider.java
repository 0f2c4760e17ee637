package dev.berth.network.domain;

import dev.berth.events.Decider;
import dev.berth.events.DomainException;
import dev.berth.network.domain.NetworkCommand.CreateNetwork;
import dev.berth.network.domain.NetworkCommand.EnsurePredefined;
import dev.berth.network.domain.NetworkCommand.RemoveNetwork;
import dev.berth.network.domain.NetworkCommand.RequestedIpam;
import dev.berth.network.domain.NetworkEvent.IpamConfig;
import dev.berth.network.domain.NetworkEvent.NetworkCreated;
import dev.berth.network.domain.NetworkEvent.NetworkRemoved;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The network aggregate, one per network id. Names are unique per tenant and subnets never overlap within a tenant's
 * address space; the decider checks both against the snapshot the command carries.
 */
public final class NetworkDecider implements Decider<NetworkCommand, Network, NetworkEvent> {

    public static final String BRIDGE = "bridge";
    public static final String HOST = "host";
    public static final String NONE = "none";
    public static final Set<String> PREDEFINED = Set.of(BRIDGE, HOST, NONE);
    static final String NO_POOL = "could not find an available, non-overlapping IPv4 address pool among the defaults"
            + " to assign to the network";

    @Override
    public Network initialState() {
        return Network.NONE;
    }

    @Override
    public List<NetworkEvent> decide(NetworkCommand command, Network state) {
        if (command instanceof CreateNetwork c) {
            return create(c, state);
        }
        if (command instanceof EnsurePredefined p) {
            return state.exists() ? List.of() : List.of(predefined(p));
        }
        return remove((RemoveNetwork) command, state);
    }

    @Override
    public Network evolve(Network state, NetworkEvent event) {
        if (event instanceof NetworkCreated c) {
            return new Network(c);
        }
        return Network.NONE;
    }

    /** The id of a tenant's predefined network: stable, so containers can refer to it before it is first listed. */
    public static String predefinedId(String tenant, String name) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(("berth/" + tenant + "/network/" + name).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private List<NetworkEvent> create(CreateNetwork c, Network state) {
        if (state.exists()) {
            throw DomainException.conflict("network with id " + c.id() + " already exists");
        }
        String name = c.name();
        if (name == null || name.isBlank()) {
            throw DomainException.badRequest("network name must not be empty");
        }
        if (PREDEFINED.contains(name)) {
            throw new DomainException(403, "operation is not permitted on predefined " + name + " network");
        }
        if (c.namesInTenant().contains(name)) {
            throw DomainException.conflict("network with name " + name + " already exists");
        }
        String driver = c.driver() == null || c.driver().isEmpty() ? BRIDGE : c.driver();
        if (HOST.equals(driver) || "null".equals(driver)) {
            throw new DomainException(403, "only one instance of \"" + driver + "\" network is allowed");
        }
        if (!BRIDGE.equals(driver)) {
            throw DomainException.badRequest("network driver \"" + driver + "\" is not supported: Berth offers"
                    + " \"bridge\" for user networks");
        }
        String ipamDriver = c.ipamDriver() == null || c.ipamDriver().isEmpty() ? "default" : c.ipamDriver();
        if (!"default".equals(ipamDriver)) {
            throw DomainException.badRequest("IPAM driver \"" + ipamDriver + "\" is not supported: only \"default\"");
        }
        if (c.enableIPv6()) {
            throw DomainException.badRequest("IPv6 networks are not supported yet");
        }
        List<IpamConfig> ipam = ipam(c.ipam() == null ? List.of() : c.ipam(), List.copyOf(c.takenSubnets()));
        return List.of(new NetworkCreated(c.id(), name, driver, false, c.internal(), c.attachable(), c.ingress(),
                false, ipamDriver, c.ipamOptions() == null ? null : Map.copyOf(c.ipamOptions()), ipam,
                c.options() == null ? Map.of() : Map.copyOf(c.options()),
                c.labels() == null ? Map.of() : Map.copyOf(c.labels()), c.now()));
    }

    private static List<IpamConfig> ipam(List<RequestedIpam> requested, List<Cidr> taken) {
        List<Cidr> used = new ArrayList<>(taken);
        List<IpamConfig> out = new ArrayList<>();
        for (RequestedIpam r : requested) {
            if (r == null) {
                continue;
            }
            if (r.subnet() == null || r.subnet().isEmpty()) {
                if (r.gateway() != null && !r.gateway().isEmpty() || r.ipRange() != null && !r.ipRange().isEmpty()) {
                    throw DomainException.badRequest("a gateway or an IP range needs a subnet");
                }
                out.add(allocate(used));
                continue;
            }
            if (r.subnet().contains(":")) {
                throw DomainException.badRequest("IPv6 networks are not supported yet");
            }
            Cidr subnet = Cidr.parse(r.subnet());
            if (used.stream().anyMatch(subnet::overlaps)) {
                throw new DomainException(403, "invalid pool request: Pool overlaps with other one on this address space");
            }
            long gateway = subnet.firstHost();
            if (r.gateway() != null && !r.gateway().isEmpty()) {
                Long g = Cidr.parseAddress(r.gateway());
                if (g == null) {
                    throw DomainException.badRequest("invalid gateway address: " + r.gateway());
                }
                if (!subnet.contains(g)) {
                    throw DomainException.badRequest("no matching subnet for gateway " + r.gateway());
                }
                gateway = g;
            }
            String ipRange = null;
            if (r.ipRange() != null && !r.ipRange().isEmpty()) {
                Cidr range = Cidr.parse(r.ipRange());
                if (!subnet.contains(range.base()) || !subnet.contains(range.last())) {
                    throw DomainException.badRequest("no matching subnet for range " + r.ipRange());
                }
                ipRange = range.toString();
            }
            used.add(subnet);
            out.add(new IpamConfig(subnet.toString(), Cidr.format(gateway), ipRange));
        }
        if (out.isEmpty()) {
            out.add(allocate(used));
        }
        return List.copyOf(out);
    }

    private static IpamConfig allocate(List<Cidr> used) {
        Cidr subnet = AddressPools.allocate(used).orElseThrow(() -> DomainException.badRequest(NO_POOL));
        used.add(subnet);
        return new IpamConfig(subnet.toString(), Cidr.format(subnet.firstHost()), null);
    }

    private static NetworkCreated predefined(EnsurePredefined p) {
        return switch (p.name()) {
            case BRIDGE -> {
                IpamConfig block = new IpamConfig(AddressPools.DEFAULT_BRIDGE.toString(),
                        Cidr.format(AddressPools.DEFAULT_BRIDGE.firstHost()), null);
                yield new NetworkCreated(p.id(), BRIDGE, BRIDGE, true, false, false, false, false, "default", null,
                        List.of(block), Map.of(
                        "com.docker.network.bridge.default_bridge", "true",
                        "com.docker.network.bridge.enable_icc", "true",
                        "com.docker.network.bridge.enable_ip_masquerade", "true",
                        "com.docker.network.bridge.host_binding_ipv4", "0.0.0.0",
                        "com.docker.network.driver.mtu", "1500"), Map.of(), p.now());
            }
            case HOST -> new NetworkCreated(p.id(), HOST, HOST, true, false, false, false, false, "default", null,
                    List.of(), Map.of(), Map.of(), p.now());
            case NONE -> new NetworkCreated(p.id(), NONE, "null", true, false, false, false, false, "default", null,
                    List.of(), Map.of(), Map.of(), p.now());
            default -> throw new IllegalArgumentException("not a predefined network: " + p.name());
        };
    }

    private static List<NetworkEvent> remove(RemoveNetwork r, Network state) {
        if (!state.exists()) {
            throw DomainException.notFound("network " + r.id() + " not found");
        }
        if (state.created().predefined()) {
            throw new DomainException(403, state.created().name() + " is a pre-defined network and cannot be removed");
        }
        return List.of(new NetworkRemoved(r.id(), state.created().name()));
    }
}
