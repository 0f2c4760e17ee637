package dev.berth.network.domain;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Docker's default address pools for user networks: {@code 172.17.0.0/16} is a tenant's {@code bridge}; networks get
 * the next free /16 of {@code 172.18.0.0/16 .. 172.31.0.0/16}, then /20 blocks of {@code 192.168.0.0/16}. Each tenant
 * allocates in its own address space.
 */
public final class AddressPools {

    public static final Cidr DEFAULT_BRIDGE = Cidr.parse("172.17.0.0/16");
    private static final List<Cidr> CANDIDATES = candidates();

    private AddressPools() {
    }

    private static List<Cidr> candidates() {
        List<Cidr> list = new ArrayList<>();
        for (int second = 18; second <= 31; second++) {
            list.add(Cidr.parse("172." + second + ".0.0/16"));
        }
        for (int third = 0; third < 256; third += 16) {
            list.add(Cidr.parse("192.168." + third + ".0/20"));
        }
        return List.copyOf(list);
    }

    /** The first candidate block that overlaps none of the taken ones, if any is left. */
    public static Optional<Cidr> allocate(Collection<Cidr> taken) {
        return CANDIDATES.stream().filter(c -> taken.stream().noneMatch(c::overlaps)).findFirst();
    }
}
