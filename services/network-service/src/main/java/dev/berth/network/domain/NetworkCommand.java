package dev.berth.network.domain;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What a client asks of a network. */
public sealed interface NetworkCommand {

    /**
     * One requested address block, as the client wrote it (all fields may be null).
     */
    record RequestedIpam(String subnet, String gateway, String ipRange) {
    }

    /**
     * Create a user network. The decider checks it against what exists at the time of the command (a snapshot of
     * the read model); the database's constraints catch what changed since, and the command is then run again.
     *
     * @param id             the new network's id
     * @param namesInTenant  names of the tenant's existing networks
     * @param takenSubnets   subnets of the tenant's existing networks (each tenant has its own address space)
     */
    record CreateNetwork(String id, String name, String driver, boolean internal, boolean attachable,
                         boolean ingress, boolean enableIPv6, String ipamDriver, Map<String, String> ipamOptions,
                         List<RequestedIpam> ipam, Map<String, String> options, Map<String, String> labels,
                         Instant now, Set<String> namesInTenant, Collection<Cidr> takenSubnets)
            implements NetworkCommand {
    }

    /** Make sure one of the tenant's predefined networks exists (no event when it does). */
    record EnsurePredefined(String id, String name, Instant now) implements NetworkCommand {
    }

    /** Remove a network. */
    record RemoveNetwork(String id) implements NetworkCommand {
    }
}
