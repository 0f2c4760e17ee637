package dev.berth.network.domain;

import dev.berth.events.DomainException;
import dev.berth.network.domain.NetworkCommand.CreateNetwork;
import dev.berth.network.domain.NetworkCommand.EnsurePredefined;
import dev.berth.network.domain.NetworkCommand.RemoveNetwork;
import dev.berth.network.domain.NetworkCommand.RequestedIpam;
import dev.berth.network.domain.NetworkEvent.IpamConfig;
import dev.berth.network.domain.NetworkEvent.NetworkCreated;
import dev.berth.network.domain.NetworkEvent.NetworkRemoved;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NetworkDeciderTest {

    private static final Instant NOW = Instant.parse("2026-11-30T00:14:39.123456Z");
    private final NetworkDecider decider = new NetworkDecider();

    private static CreateNetwork create(String name, List<RequestedIpam> ipam, Set<String> names,
                                        Collection<Cidr> taken) {
        return new CreateNetwork("n1", name, null, false, false, false, false, null, Map.of(), ipam, null,
                Map.of("tr", "1"), NOW, names, taken);
    }

    private static Cidr cidr(String s) {
        return Cidr.parse(s);
    }

    private static NetworkCreated only(List<NetworkEvent> events) {
        assertThat(events).hasSize(1);
        return (NetworkCreated) events.get(0);
    }

    private static void assertRefused(Runnable action, int status, String message) {
        assertThatThrownBy(action::run).isInstanceOfSatisfying(DomainException.class, e -> {
            assertThat(e.status()).isEqualTo(status);
            assertThat(e.getMessage()).isEqualTo(message);
        });
    }

    @Test
    void aNetworkWithoutSubnetGetsTheFirstFreeDefaultPool() {
        NetworkCreated created = only(decider.decide(create("trnet", null, Set.of(), List.of(cidr("172.17.0.0/16"))),
                Network.NONE));
        assertThat(created.ipam()).containsExactly(new IpamConfig("172.18.0.0/16", "172.18.0.1", null));
        assertThat(created.driver()).isEqualTo("bridge");
        assertThat(created.labels()).containsEntry("tr", "1");

        NetworkCreated next = only(decider.decide(create("trnet2", List.of(), Set.of(),
                List.of(cidr("172.17.0.0/16"), cidr("172.18.0.0/16"), cidr("172.19.5.0/24"))), Network.NONE));
        assertThat(next.ipam()).containsExactly(new IpamConfig("172.20.0.0/16", "172.20.0.1", null));
    }

    @Test
    void afterThe172BlocksComeThe192168Slash20Blocks() {
        List<Cidr> taken = new java.util.ArrayList<>();
        for (int i = 17; i <= 31; i++) {
            taken.add(cidr("172." + i + ".0.0/16"));
        }
        taken.add(cidr("192.168.0.0/20"));
        assertThat(only(decider.decide(create("x", null, Set.of(), taken), Network.NONE)).ipam())
                .containsExactly(new IpamConfig("192.168.16.0/20", "192.168.16.1", null));
        taken.add(cidr("192.168.0.0/16"));
        assertRefused(() -> decider.decide(create("x", null, Set.of(), taken), Network.NONE), 400,
                NetworkDecider.NO_POOL);
    }

    @Test
    void anExplicitSubnetAndGatewayAreHonoured() {
        NetworkCreated created = only(decider.decide(create("trnet2",
                List.of(new RequestedIpam("172.29.0.0/24", "172.29.0.1", null)), Set.of(), List.of()), Network.NONE));
        assertThat(created.ipam()).containsExactly(new IpamConfig("172.29.0.0/24", "172.29.0.1", null));
        NetworkCreated noGateway = only(decider.decide(create("trnet3",
                List.of(new RequestedIpam("10.9.8.0/24", null, "10.9.8.128/25")), Set.of(), List.of()), Network.NONE));
        assertThat(noGateway.ipam()).containsExactly(new IpamConfig("10.9.8.0/24", "10.9.8.1", "10.9.8.128/25"));
    }

    @Test
    void overlappingSubnetsAreRefused() {
        assertRefused(() -> decider.decide(create("a", List.of(new RequestedIpam("172.18.3.0/24", null, null)),
                        Set.of(), List.of(cidr("172.18.0.0/16"))), Network.NONE), 403,
                "invalid pool request: Pool overlaps with other one on this address space");
        assertRefused(() -> decider.decide(create("a", List.of(new RequestedIpam("10.0.0.0/8", null, null),
                        new RequestedIpam("10.1.0.0/16", null, null)), Set.of(), List.of()), Network.NONE), 403,
                "invalid pool request: Pool overlaps with other one on this address space");
    }

    @Test
    void badAddressesAreBadRequests() {
        assertRefused(() -> decider.decide(create("a", List.of(new RequestedIpam("300.1.0.0/16", null, null)),
                Set.of(), List.of()), Network.NONE), 400, "invalid CIDR address: 300.1.0.0/16");
        assertRefused(() -> decider.decide(create("a", List.of(new RequestedIpam("10.0.0.0/24", "10.0.1.1", null)),
                Set.of(), List.of()), Network.NONE), 400, "no matching subnet for gateway 10.0.1.1");
    }

    @Test
    void namesAreUniquePerTenantAndPredefinedNamesAreReserved() {
        assertRefused(() -> decider.decide(create("trnet", null, Set.of("trnet"), List.of()), Network.NONE), 409,
                "network with name trnet already exists");
        assertRefused(() -> decider.decide(create("bridge", null, Set.of(), List.of()), Network.NONE), 403,
                "operation is not permitted on predefined bridge network");
    }

    @Test
    void driversOtherThanBridgeAreRefused() {
        CreateNetwork host = new CreateNetwork("n1", "h2", "host", false, false, false, false, null, null, null,
                null, null, NOW, Set.of(), List.of());
        assertRefused(() -> decider.decide(host, Network.NONE), 403, "only one instance of \"host\" network is allowed");
        CreateNetwork overlay = new CreateNetwork("n1", "o", "overlay", false, false, false, false, null, null, null,
                null, null, NOW, Set.of(), List.of());
        assertThatThrownBy(() -> decider.decide(overlay, Network.NONE)).hasMessageContaining("\"overlay\"");
    }

    @Test
    void predefinedNetworksAreCreatedOnceAndCannotBeRemoved() {
        String id = NetworkDecider.predefinedId("default", "bridge");
        assertThat(id).hasSize(64).isEqualTo(NetworkDecider.predefinedId("default", "bridge"))
                .isNotEqualTo(NetworkDecider.predefinedId("acme", "bridge"));
        NetworkCreated bridge = only(decider.decide(new EnsurePredefined(id, "bridge", NOW),
                Network.NONE));
        assertThat(bridge.ipam()).containsExactly(new IpamConfig("172.17.0.0/16", "172.17.0.1", null));
        Network state = decider.fold(List.of(bridge));
        assertThat(decider.decide(new EnsurePredefined(id, "bridge", NOW), state)).isEmpty();
        assertRefused(() -> decider.decide(new RemoveNetwork(id), state), 403,
                "bridge is a pre-defined network and cannot be removed");

        NetworkCreated none = only(decider.decide(new EnsurePredefined("y", "none", NOW),
                Network.NONE));
        assertThat(none.driver()).isEqualTo("null");
        assertThat(none.ipam()).isEmpty();
    }

    @Test
    void removeRecordsTheRemovalOrIsNotFound() {
        NetworkCreated created = only(decider.decide(create("trnet", null, Set.of(), List.of()), Network.NONE));
        Network state = decider.fold(List.of(created));
        assertThat(decider.decide(new RemoveNetwork("n1"), state)).containsExactly(new NetworkRemoved("n1", "trnet"));
        Network removed = decider.fold(List.of(created, new NetworkRemoved("n1", "trnet")));
        assertRefused(() -> decider.decide(new RemoveNetwork("n1"), removed), 404, "network n1 not found");
    }

    @Test
    void cidrsAreCanonicalAndOverlapAsExpected() {
        assertThat(cidr("172.29.0.5/24")).hasToString("172.29.0.0/24");
        assertThat(cidr("10.0.0.0/8").overlaps(cidr("10.200.0.0/16"))).isTrue();
        assertThat(cidr("10.0.0.0/16").overlaps(cidr("10.1.0.0/16"))).isFalse();
        assertThatThrownBy(() -> cidr("10.0.0.0")).hasMessage("invalid CIDR address: 10.0.0.0");
    }
}
