package dev.berth.node.network;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The pure pieces: CIDR arithmetic, Docker's MAC, resolv.conf filtering, iptables -S parsing. */
class NetworkPartsTest {

    @Test
    void subnetsParseContainAndOverlap() {
        Subnet s = Subnet.parse("172.17.3.9/16");
        assertThat(s.toString()).isEqualTo("172.17.0.0/16");
        assertThat(s.size()).isEqualTo(65536);
        assertThat(Subnet.format(s.address(1))).isEqualTo("172.17.0.1");
        assertThat(s.contains(Subnet.parseAddress("172.17.255.254"))).isTrue();
        assertThat(s.contains(Subnet.parseAddress("172.18.0.1"))).isFalse();
        assertThat(s.overlaps(Subnet.parse("172.17.200.0/24"))).isTrue();
        assertThat(Subnet.parse("172.16.0.0/12").overlaps(s)).isTrue();
        assertThat(s.overlaps(Subnet.parse("172.18.0.0/16"))).isFalse();
        assertThat(Subnet.parse("10.0.0.5").prefixLength()).isEqualTo(32);
        assertThatThrownBy(() -> Subnet.parse("300.1.1.1/8")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Subnet.parse("10.1.1.1/33")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void macIsDockers() {
        assertThat(Subnet.macFor(Subnet.parseAddress("172.17.0.2"))).isEqualTo("02:42:ac:11:00:02");
    }

    @Test
    void containerResolvConfDropsLoopbackAndIpv6ServersAndFallsBackToPublicOnes() throws Exception {
        Path dir = Files.createTempDirectory("berth-resolv");
        try {
            Path f = dir.resolve("resolv.conf");
            Files.writeString(f, "nameserver 127.0.0.1\nnameserver fe80::1\nsearch corp\n");
            assertThat(ResolvConf.forContainer(f)).isEqualTo("search corp\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
            Files.writeString(f, "nameserver 10.0.0.2\n");
            assertThat(ResolvConf.forContainer(f)).isEqualTo("nameserver 10.0.0.2\n");
            assertThat(ResolvConf.forContainer(dir.resolve("missing"))).isEqualTo("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
            assertThat(ResolvConf.host(dir.resolve("missing"))).isEmpty();
        } finally {
            NetTestSupport.deleteTree(dir);
        }
    }

    @Test
    void iptablesLinesTokenizeWithQuotedComments() {
        assertThat(Iptables.tokenize("-A X -p tcp -m comment --comment \"berth:ab c\" -j DNAT --to-destination 10.0.0.2:80"))
                .containsExactly("-A", "X", "-p", "tcp", "-m", "comment", "--comment", "berth:ab c", "-j", "DNAT",
                        "--to-destination", "10.0.0.2:80");
    }
}
