package dev.berth.node.network;

import dev.berth.node.network.NodeNetwork.Attachment;
import dev.berth.node.network.NodeNetwork.PortBinding;
import dev.berth.node.network.NodeNetwork.Spec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.berth.node.network.NetTestSupport.exec;
import static dev.berth.node.network.NetTestSupport.httpGet;
import static dev.berth.node.network.NetTestSupport.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The default bridge, host and none modes on the real kernel, as root: namespaces, veths, addresses, NAT and
 * published ports, checked from the host and from inside the namespaces with busybox and iproute2.
 */
class BridgeNetworkTest {
    private static final String BRIDGE = "bntest0";
    private static final String SUBNET = "10.201.7.0/24";
    private static final String FOREIGN = "BNTFOREIGN";

    private static Path root;
    private static Path hostResolv;
    private static BridgeNetwork network;
    private static String hostAddress;

    private final NetTestSupport procs = new NetTestSupport();
    private final List<String> attached = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        root = Files.createTempDirectory("berth-net-test");
        hostResolv = root.resolve("resolv.conf");
        Files.writeString(hostResolv, "search example.test\nnameserver 127.0.0.53\nnameserver 10.9.8.7\nnameserver ::1\n"
                + "options ndots:2\n");
        network = new BridgeNetwork(new NetworkConfig(root.resolve("lib"), root.resolve("run"), BRIDGE, SUBNET, null,
                hostResolv, null));
        hostAddress = NetTestSupport.hostPrimaryAddress();
        // rules of other software, as a Docker daemon's would be: Berth must leave them as they are
        String iptables = network.iptablesBinary();
        sh(iptables, "-w", "-N", FOREIGN);
        sh(iptables, "-w", "-A", FOREIGN, "-o", BRIDGE, "-j", "RETURN");
        sh(iptables, "-w", "-A", "FORWARD", "-j", FOREIGN);
        sh(iptables, "-w", "-t", "nat", "-N", FOREIGN);
        sh(iptables, "-w", "-t", "nat", "-A", FOREIGN, "-d", SUBNET, "-j", "RETURN");
    }

    @AfterEach
    void cleanUp() throws Exception {
        procs.stopAll();
        for (String id : attached) {
            network.detach(id);
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        String iptables = network.iptablesBinary();
        try {
            network.removeBridge();
            assertThat(NetTestSupport.links()).doesNotContain(BRIDGE);
            String rules = NetTestSupport.iptablesSave(iptables);
            assertThat(rules).doesNotContain("BERTH-" + BRIDGE);
            assertThat(rules.lines().filter(l -> l.contains("10.201.7.")))
                    .containsExactly("-A " + FOREIGN + " -d 10.201.7.0/24 -j RETURN");
            assertThat(rules).contains("-A FORWARD -j " + FOREIGN, "-A " + FOREIGN + " -o " + BRIDGE + " -j RETURN");
            assertThat(root.resolve("run/network/" + BRIDGE)).doesNotExist();
            assertThat(root.resolve("run/netns")).isEmptyDirectory();
        } finally {
            exec(iptables, "-w", "-D", "FORWARD", "-j", FOREIGN);
            exec(iptables, "-w", "-F", FOREIGN);
            exec(iptables, "-w", "-X", FOREIGN);
            exec(iptables, "-w", "-t", "nat", "-F", FOREIGN);
            exec(iptables, "-w", "-t", "nat", "-X", FOREIGN);
            NetTestSupport.deleteTree(root);
        }
    }

    private Attachment attach(String mode, PortBinding... ports) throws IOException {
        String id = NetTestSupport.randomId();
        Attachment a = network.attach(id, new Spec(mode, List.of(ports), "web"));
        attached.add(id);
        return a;
    }

    private void detach(Attachment a) throws IOException {
        network.detach(a.containerId());
        attached.remove(a.containerId());
    }

    private static String inNs(Path netns, String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("nsenter", "--net=" + netns));
        cmd.addAll(List.of(command));
        return sh(cmd.toArray(String[]::new));
    }

    private void serveHttp(Path netns, String body) throws Exception {
        Path www = NetTestSupport.webRoot(root, body);
        procs.start("nsenter", "--net=" + netns, "busybox", "httpd", "-f", "-p", "80", "-h", www.toString());
    }

    private static String awaitHttp(String host, int port) {
        return await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .until(() -> httpGet(host, port, "/index.html"), body -> true);
    }

    private static List<String> linkNamesIn(Path netns) throws Exception {
        List<String> names = new ArrayList<>();
        for (String line : inNs(netns, "ip", "-o", "link", "show").lines().toList()) {
            String name = line.split(":\\s+")[1];
            names.add(name.contains("@") ? name.substring(0, name.indexOf('@')) : name);
        }
        return names;
    }

    private static int freeHostPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void noneModeGivesANamespaceWithOnlyLoopbackAndLeavesNothingAfterDetach() throws Exception {
        String hostNs = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();

        Attachment a = attach("none");

        assertThat(a.netnsPath()).isEqualTo(root.resolve("run/netns").resolve(a.containerId()));
        assertThat(Netns.isMounted(a.netnsPath())).isTrue();
        assertThat(linkNamesIn(a.netnsPath())).containsExactly("lo");
        assertThat(inNs(a.netnsPath(), "ip", "-o", "link", "show", "lo")).contains("UP");
        assertThat(inNs(a.netnsPath(), "ip", "-4", "-o", "addr", "show", "lo")).contains("127.0.0.1/8");
        assertThat(a.ipAddress()).isNull();
        assertThat(a.resolvConf()).contains("nameserver 10.9.8.7");
        // every thread of the agent stayed in the host's network namespace
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                assertThat(Files.readSymbolicLink(task.resolve("ns/net")).toString()).isEqualTo(hostNs);
            }
        }

        detach(a);

        assertThat(a.netnsPath()).doesNotExist();
        assertThat(Netns.isMounted(a.netnsPath())).isFalse();
        assertThat(network.find(a.containerId())).isNull();
    }

    @Test
    void hostModeHasNoNamespaceAndTheHostsResolvConf() throws Exception {
        Attachment a = attach("host", new PortBinding(null, 8080, 80, "tcp"));

        assertThat(a.netnsPath()).isNull();
        assertThat(a.ipAddress()).isNull();
        assertThat(a.ports()).isEmpty();
        assertThat(a.resolvConf()).isEqualTo(Files.readString(hostResolv));
        assertThat(network.find(a.containerId()).mode()).isEqualTo("host");
    }

    @Test
    void bridgeContainerGetsAddressMacRouteAndIsReachableFromTheHost() throws Exception {
        Attachment a = attach("bridge");

        assertThat(a.mode()).isEqualTo("bridge");
        assertThat(a.bridge()).isEqualTo(BRIDGE);
        assertThat(a.gateway()).isEqualTo("10.201.7.1");
        assertThat(a.prefixLength()).isEqualTo(24);
        assertThat(Subnet.parse(SUBNET).contains(Subnet.parseAddress(a.ipAddress()))).isTrue();
        long ip = Subnet.parseAddress(a.ipAddress());
        assertThat(a.macAddress()).isEqualTo(String.format("02:42:0a:c9:07:%02x", ip & 0xff));
        assertThat(a.resolvConf())
                .contains("nameserver 10.9.8.7", "search example.test", "options ndots:2")
                .doesNotContain("127.0.0.53").doesNotContain("::1");

        assertThat(linkNamesIn(a.netnsPath())).containsExactlyInAnyOrder("lo", "eth0");
        String eth0 = inNs(a.netnsPath(), "ip", "-o", "addr", "show", "dev", "eth0");
        assertThat(eth0).contains("inet " + a.ipAddress() + "/24");
        assertThat(inNs(a.netnsPath(), "ip", "-o", "link", "show", "eth0")).contains("link/ether " + a.macAddress());
        assertThat(inNs(a.netnsPath(), "ip", "route", "show", "default")).contains("default via 10.201.7.1 dev eth0");
        assertThat(NetTestSupport.bridgePorts(BRIDGE)).anyMatch(n -> n.matches("veth[0-9a-f]{8}"));

        serveHttp(a.netnsPath(), "hello from " + a.containerId());
        assertThat(awaitHttp(a.ipAddress(), 80)).isEqualTo("hello from " + a.containerId());
    }

    @Test
    void publishedPortsAnswerOnLoopbackAndTheHostsAddress() throws Exception {
        int fixed = freeHostPort();
        Attachment a = attach("bridge", new PortBinding("", 0, 80, "tcp"), new PortBinding(null, fixed, 80, null));

        assertThat(a.ports()).hasSize(2);
        PortBinding random = a.ports().get(0);
        assertThat(random.hostIp()).isEqualTo("0.0.0.0");
        assertThat(random.protocol()).isEqualTo("tcp");
        String[] range = String.join(" ", Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))).trim().split("\\s+");
        assertThat(random.hostPort()).isBetween(Integer.parseInt(range[0]), Integer.parseInt(range[1]));
        assertThat(a.ports().get(1)).isEqualTo(new PortBinding("0.0.0.0", fixed, 80, "tcp"));

        serveHttp(a.netnsPath(), "published");
        assertThat(awaitHttp("127.0.0.1", random.hostPort())).isEqualTo("published");
        assertThat(httpGet(hostAddress, random.hostPort(), "/index.html")).isEqualTo("published");
        assertThat(httpGet("127.0.0.1", fixed, "/index.html")).isEqualTo("published");
        assertThat(httpGet(hostAddress, fixed, "/index.html")).isEqualTo("published");
        // the container reaches its own published port through the host's address (hairpin)
        assertThat(inNs(a.netnsPath(), "timeout", "10", "busybox", "wget", "-q", "-O", "-",
                "http://" + hostAddress + ":" + fixed + "/index.html")).isEqualTo("published");
    }

    @Test
    void aPortBoundToLoopbackOnlyIsNotPublishedOnTheHostsAddress() throws Exception {
        int port = freeHostPort();
        Attachment a = attach("bridge", new PortBinding("127.0.0.1", port, 80, "tcp"));
        assertThat(a.ports()).containsExactly(new PortBinding("127.0.0.1", port, 80, "tcp"));

        serveHttp(a.netnsPath(), "loopback only");
        assertThat(awaitHttp("127.0.0.1", port)).isEqualTo("loopback only");
        assertThatThrownBy(() -> httpGet(hostAddress, port, "/index.html")).isInstanceOf(IOException.class);
    }

    @Test
    void twoContainersGetDifferentAddressesAndReachEachOtherDirectlyAndThroughPublishedPorts() throws Exception {
        Attachment a = attach("bridge");
        Attachment b = attach("bridge", new PortBinding(null, 0, 80, "tcp"));

        assertThat(a.ipAddress()).isNotEqualTo(b.ipAddress());
        assertThat(a.macAddress()).isNotEqualTo(b.macAddress());
        serveHttp(b.netnsPath(), "b");
        awaitHttp(b.ipAddress(), 80);
        assertThat(inNs(a.netnsPath(), "timeout", "10", "busybox", "wget", "-q", "-O", "-",
                "http://" + b.ipAddress() + "/index.html")).isEqualTo("b");
        assertThat(inNs(a.netnsPath(), "timeout", "10", "busybox", "wget", "-q", "-O", "-",
                "http://" + hostAddress + ":" + b.ports().get(0).hostPort() + "/index.html")).isEqualTo("b");
    }

    @Test
    void parallelAttachesGetDistinctAddressesPortsAndVeths() throws Exception {
        int n = 8;
        List<java.util.concurrent.Future<Attachment>> futures = new ArrayList<>();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            for (int i = 0; i < n; i++) {
                String id = NetTestSupport.randomId();
                synchronized (attached) {
                    attached.add(id);
                }
                futures.add(pool.submit(() -> network.attach(id, new Spec("bridge",
                        List.of(new PortBinding(null, 0, 80, "tcp")), "p"))));
            }
            List<Attachment> all = new ArrayList<>();
            for (var f : futures) {
                all.add(f.get());
            }
            assertThat(all.stream().map(Attachment::ipAddress).distinct()).hasSize(n);
            assertThat(all.stream().map(x -> x.ports().get(0).hostPort()).distinct()).hasSize(n);
            assertThat(NetTestSupport.bridgePorts(BRIDGE).stream().filter(x -> x.startsWith("veth"))).hasSizeGreaterThanOrEqualTo(n);
            for (Attachment x : all) {
                assertThat(inNs(x.netnsPath(), "ip", "-4", "-o", "addr", "show", "dev", "eth0")).contains(x.ipAddress() + "/24");
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void anAllocatedPortIsRefusedAndTheFailedAttachLeavesNothing() throws Exception {
        int port = freeHostPort();
        Attachment a = attach("bridge", new PortBinding(null, port, 80, "tcp"));
        List<String> linksBefore = NetTestSupport.links();
        String rulesBefore = NetTestSupport.iptablesSave(network.iptablesBinary());
        String id = NetTestSupport.randomId();

        assertThatThrownBy(() -> network.attach(id, new Spec("bridge", List.of(new PortBinding("127.0.0.1", port, 8080, "tcp")), "x")))
                .isInstanceOf(IOException.class).isNotInstanceOf(InvalidNetworkSpecException.class)
                .hasMessage("Bind for 127.0.0.1:" + port + " failed: port is already allocated");

        assertThat(network.find(id)).isNull();
        assertThat(network.netnsPath(id)).doesNotExist();
        assertThat(NetTestSupport.links()).isEqualTo(linksBefore);
        assertThat(NetTestSupport.iptablesSave(network.iptablesBinary()).lines().filter(l -> l.startsWith("-A")).toList())
                .isEqualTo(rulesBefore.lines().filter(l -> l.startsWith("-A")).toList());
        // the same port over udp is another port
        Attachment udp = attach("bridge", new PortBinding(null, port, 53, "udp"));
        assertThat(udp.ports()).containsExactly(new PortBinding("0.0.0.0", port, 53, "udp"));
        assertThat(a.ports()).hasSize(1);
    }

    @Test
    void aPortAHostProcessListensOnIsRefusedAndNothingRemains() throws Exception {
        try (ServerSocket listener = new ServerSocket()) {
            listener.bind(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 0));
            int port = listener.getLocalPort();
            List<String> linksBefore = NetTestSupport.links();
            String id = NetTestSupport.randomId();

            assertThatThrownBy(() -> network.attach(id, new Spec("bridge", List.of(new PortBinding(null, port, 80, "tcp")), "x")))
                    .isInstanceOf(IOException.class)
                    .hasMessageStartingWith("Bind for 0.0.0.0:" + port + " failed: port is already allocated");

            assertThat(network.find(id)).isNull();
            assertThat(network.netnsPath(id)).doesNotExist();
            assertThat(NetTestSupport.links()).isEqualTo(linksBefore);
        }
    }

    @Test
    void badPortsAndModesAreRefusedWithAClearMessage() {
        String id = NetTestSupport.randomId();
        assertThatThrownBy(() -> network.attach(id, new Spec("bridge", List.of(new PortBinding(null, 80, 0, "tcp")), "x")))
                .isInstanceOf(InvalidNetworkSpecException.class).hasMessageContaining("invalid container port 0/tcp");
        assertThatThrownBy(() -> network.attach(id, new Spec("bridge", List.of(new PortBinding(null, 80, 80, "sctp")), "x")))
                .isInstanceOf(InvalidNetworkSpecException.class).hasMessageContaining("invalid protocol \"sctp\"");
        assertThatThrownBy(() -> network.attach(id, new Spec("bridge", List.of(new PortBinding("10.1.2.", 80, 80, "tcp")), "x")))
                .isInstanceOf(InvalidNetworkSpecException.class).hasMessageContaining("invalid host IP \"10.1.2.\"");
        assertThatThrownBy(() -> network.attach(id, new Spec("bridge", List.of(new PortBinding("203.0.113.254", 8080, 80, "tcp")), "x")))
                .isInstanceOf(InvalidNetworkSpecException.class).hasMessageContaining("203.0.113.254 is not an address of this host");
        assertThatThrownBy(() -> network.attach(id, new Spec("container:abc", List.of(), "x")))
                .isInstanceOf(InvalidNetworkSpecException.class).hasMessageContaining("network mode \"container:abc\" is not supported");
        assertThatThrownBy(() -> network.attach("../etc", new Spec("none", List.of(), "x")))
                .isInstanceOf(InvalidNetworkSpecException.class).hasMessageContaining("invalid container id");
        assertThat(network.netnsPath(id)).doesNotExist();
    }

    @Test
    void detachRemovesVethNamespaceAndRulesAndTheAddressIsReused() throws Exception {
        String iptables = network.iptablesBinary();
        List<String> portsBefore = NetTestSupport.bridgePorts(BRIDGE);
        Attachment a = attach("bridge", new PortBinding(null, 0, 80, "tcp"), new PortBinding(null, 0, 53, "udp"));
        List<String> newPorts = new ArrayList<>(NetTestSupport.bridgePorts(BRIDGE));
        newPorts.removeAll(portsBefore);
        assertThat(newPorts).hasSize(1);
        String veth = newPorts.get(0);
        assertThat(NetTestSupport.iptablesSave(iptables)).contains(a.ipAddress() + ":80", a.ipAddress() + ":53");

        detach(a);

        assertThat(NetTestSupport.links()).doesNotContain(veth);
        assertThat(a.netnsPath()).doesNotExist();
        assertThat(Netns.isMounted(a.netnsPath())).isFalse();
        assertThat(NetTestSupport.iptablesSave(iptables)).doesNotContain(a.ipAddress() + "/").doesNotContain(a.ipAddress() + ":")
                .doesNotContain(a.containerId());
        assertThat(network.find(a.containerId())).isNull();
        // detaching twice is no error
        network.detach(a.containerId());

        Attachment again = attach("bridge");
        assertThat(again.ipAddress()).isEqualTo(a.ipAddress());
    }

    @Test
    void anAgentRestartFindsTheAttachmentAndCanDetachIt() throws Exception {
        Attachment a = attach("bridge", new PortBinding(null, 0, 80, "tcp"));
        BridgeNetwork restarted = new BridgeNetwork(network.config());

        assertThat(restarted.find(a.containerId())).isEqualTo(a);
        Attachment b = restarted.attach(NetTestSupport.randomId(), new Spec("bridge", List.of(), "y"));
        attached.add(b.containerId());
        assertThat(b.ipAddress()).isNotEqualTo(a.ipAddress());
        assertThatThrownBy(() -> restarted.attach(a.containerId(), new Spec("bridge", List.of(), "y")))
                .hasMessageContaining("already set up");

        restarted.detach(a.containerId());
        attached.remove(a.containerId());
        assertThat(network.find(a.containerId())).isNull();
        assertThat(NetTestSupport.iptablesSave(network.iptablesBinary())).doesNotContain(a.ipAddress() + ":80");
    }

    @Test
    void aContainerReachesTheHostsAddressAndIsMasqueradedBeyondTheHost() throws Exception {
        Attachment a = attach("bridge", new PortBinding(null, 0, 80, "tcp"));
        serveHttp(a.netnsPath(), "inside");

        // a listener on the host's primary address, outside the bridge
        Path hostWww = NetTestSupport.webRoot(root, "host side");
        int hostPort = freeHostPort();
        procs.start("busybox", "httpd", "-f", "-p", hostAddress + ":" + hostPort, "-h", hostWww.toString());
        awaitHttp(hostAddress, hostPort);
        assertThat(inNs(a.netnsPath(), "timeout", "10", "busybox", "wget", "-q", "-O", "-",
                "http://" + hostAddress + ":" + hostPort + "/index.html")).isEqualTo("host side");

        // another machine: a namespace behind a veth of the host, with no route back to the bridge's subnet
        Path outside = root.resolve("outside-ns");
        Files.createFile(outside);
        String hostSide = "bntout0";
        try {
            sh("unshare", "--net=" + outside, "true");
            sh("ip", "link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", outside.toString());
            sh("ip", "addr", "add", "198.51.100.1/30", "dev", hostSide);
            sh("ip", "link", "set", hostSide, "up");
            inNs(outside, "ip", "addr", "add", "198.51.100.2/30", "dev", "eth0");
            inNs(outside, "ip", "link", "set", "eth0", "up");
            inNs(outside, "ip", "link", "set", "lo", "up");
            Path cgiRoot = NetTestSupport.webRoot(root, "outside");
            NetTestSupport.write(cgiRoot.resolve("cgi-bin/peer"),
                    "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s' \"$REMOTE_ADDR\"\n", true);
            procs.start("nsenter", "--net=" + outside, "busybox", "httpd", "-f", "-p", "198.51.100.2:8080", "-h", cgiRoot.toString());

            String seen = await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                    .until(() -> inNs(a.netnsPath(), "timeout", "5", "busybox", "wget", "-q", "-O", "-",
                            "http://198.51.100.2:8080/cgi-bin/peer"), s -> !s.isEmpty());
            assertThat(seen).isEqualTo("198.51.100.1");

            // and that machine reaches the published port through the host's address on its side
            int published = a.ports().get(0).hostPort();
            assertThat(inNs(outside, "timeout", "10", "busybox", "wget", "-q", "-O", "-",
                    "http://198.51.100.1:" + published + "/index.html")).isEqualTo("inside");
        } finally {
            exec("ip", "link", "del", hostSide);
            exec("umount", outside.toString());
            Files.deleteIfExists(outside);
        }
    }
}
