package dev.berth.network.domain;

import dev.berth.events.EventType;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The facts of a network's life. Their JSON form is a public contract (docs/events.md). */
public sealed interface NetworkEvent {

    /**
     * One address block of a network.
     *
     * @param subnet  canonical IPv4 CIDR
     * @param gateway the gateway address inside it
     * @param ipRange the sub-range containers get addresses from, null for the whole subnet
     */
    record IpamConfig(String subnet, String gateway, String ipRange) {
    }

    /**
     * A network came into existence.
     *
     * @param id          64-hex id (deterministic for the predefined networks of a tenant)
     * @param name        unique within the tenant
     * @param driver      {@code bridge}, or {@code host}/{@code null} for those predefined networks
     * @param predefined  true for {@code bridge}, {@code host} and {@code none}, which cannot be removed
     * @param ipamDriver  always {@code default}
     * @param ipamOptions as given, null when none
     * @param ipam        the address blocks, allocated or as given (empty for host and none)
     * @param options     driver options (never null)
     * @param labels      user labels (never null)
     */
    @EventType("dev.berth.network.created.v1")
    record NetworkCreated(String id, String name, String driver, boolean predefined, boolean internal,
                          boolean attachable, boolean ingress, boolean enableIPv6, String ipamDriver,
                          Map<String, String> ipamOptions, List<IpamConfig> ipam, Map<String, String> options,
                          Map<String, String> labels, Instant created) implements NetworkEvent {
    }

    /** A network is gone; its address blocks are free again. */
    @EventType("dev.berth.network.removed.v1")
    record NetworkRemoved(String id, String name) implements NetworkEvent {
    }
}
