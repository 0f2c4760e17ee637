package dev.berth.node.network;

import dev.berth.node.network.EndpointStore.Endpoint;

import java.io.IOException;
import java.io.InputStream;
import java.net.BindException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * The node's container networks: Docker's default bridge ({@code bridge}), the host's network ({@code host}) and an
 * isolated namespace with only loopback ({@code none}).
 *
 * <p>Bridge mode: a Linux bridge with the gateway address, a veth pair per container (host side {@code veth<8 hex>}
 * on the bridge, container side {@code eth0} in the container's namespace), an address from the bridge's subnet with
 * Docker's MAC ({@code 02:42:<ip>}), a default route via the gateway, outbound masquerading, and published ports as
 * DNAT rules (reachable from other hosts, from the host's own addresses and from its loopback, as Docker does without
 * its userland proxy). Links and addresses are driven with iproute2, rules with the host's iptables, all in Berth's
 * own chains ({@link NetworkConfig#chainPrefix()}).
 *
 * <p>Every allocation (address, veth, host ports) is recorded under the run root before anything is made, so a failed
 * {@link #attach} is undone completely and an agent restart finds running containers' networks with {@link #find}.
 * One instance per bridge and run root; its methods are safe to call from several threads.
 */
public final class BridgeNetwork implements NodeNetwork {
    private static final Pattern CONTAINER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final Path SYS_NET = Path.of("/sys/class/net");
    private static final Path PROC_ROUTE = Path.of("/proc/net/route");
    private static final int MAX_BRIDGE_ATTEMPTS = 5;

    private final NetworkConfig config;
    private final EndpointStore store;
    private final Path netnsDir;
    private final Path subnetFile;
    private final String natChain;
    private final String postChain;
    private final String forwardChain;
    private final Object allocation = new Object();
    private final Object bridgeLock = new Object();
    private volatile Iptables iptables;
    private volatile Bridge bridge;

    /** The bridge as set up: its name, subnet, and the gateway address it carries. */
    public record Bridge(String name, String subnet, String gateway, int prefixLength) {
    }

    public BridgeNetwork(NetworkConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        this.store = new EndpointStore(config.runRoot().resolve("network").resolve(config.bridgeName()));
        this.netnsDir = config.runRoot().resolve("netns");
        this.subnetFile = config.stateRoot().resolve("network").resolve(config.bridgeName()).resolve("subnet");
        this.natChain = config.chainPrefix();
        this.postChain = config.chainPrefix() + "-POST";
        this.forwardChain = config.chainPrefix() + "-FWD";
    }

    public NetworkConfig config() {
        return config;
    }

    /** Where the namespace of a container in bridge or none mode is bound. */
    public Path netnsPath(String containerId) {
        return netnsDir.resolve(containerId);
    }

    /** The iptables binary in use (detected on first use). */
    public String iptablesBinary() throws IOException {
        return iptables().binary();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // NodeNetwork

    @Override
    public Attachment attach(String containerId, Spec spec) throws IOException {
        checkId(containerId);
        Objects.requireNonNull(spec, "spec");
        String mode = normalizeMode(spec.mode());
        return switch (mode) {
            case "host" -> attachHost(containerId);
            case "none" -> attachNone(containerId);
            default -> attachBridge(containerId, spec);
        };
    }

    @Override
    public void detach(String containerId) throws IOException {
        checkId(containerId);
        Endpoint e = store.read(containerId);
        IOException failure = null;
        if (e != null && !e.ports().isEmpty() && e.address() >= 0) {
            try {
                Iptables t = iptables();
                try {
                    t.apply(portRules(e, "-D"));
                } catch (IOException partial) {
                    // an attach that failed half-way, or rules removed by hand: delete whatever carries the tag
                    String tag = tag(containerId);
                    t.deleteTagged("nat", natChain, tag);
                    t.deleteTagged("filter", forwardChain, tag);
                }
            } catch (IOException ex) {
                failure = ex;
            }
        }
        if (e != null && e.veth() != null) {
            try {
                deleteLink(e.veth());
            } catch (IOException ex) {
                failure = chain(failure, ex);
            }
        }
        Path ns = e != null && e.netnsPath() != null ? e.netnsPath() : netnsPath(containerId);
        try {
            Netns.remove(ns);
        } catch (IOException ex) {
            failure = chain(failure, ex);
        }
        if (failure != null) {
            // the record stays, so that a later detach can finish the job and the address is not handed out twice
            throw new IOException("removing the network of container " + containerId + ": " + failure.getMessage(), failure);
        }
        store.delete(containerId);
    }

    @Override
    public Attachment find(String containerId) throws IOException {
        checkId(containerId);
        Endpoint e = store.read(containerId);
        if (e == null) {
            return null;
        }
        return switch (e.mode()) {
            case "host" -> new Attachment(containerId, "host", null, null, 0, null, null, null, List.of(),
                    ResolvConf.host(config.hostResolvConf()));
            case "none" -> new Attachment(containerId, "none", e.netnsPath(), null, 0, null, null, null, List.of(),
                    ResolvConf.forContainer(config.hostResolvConf()));
            default -> bridgeAttachment(e);
        };
    }

    // ---------------------------------------------------------------------------------------------------------------
    // the three modes

    private Attachment attachHost(String containerId) throws IOException {
        synchronized (allocation) {
            requireNotAttached(containerId);
            // Docker discards published ports in host mode: the container's sockets are the host's
            store.write(new Endpoint(containerId, "host", null, -1, 0, -1, null, null, List.of()));
        }
        return new Attachment(containerId, "host", null, null, 0, null, null, null, List.of(),
                ResolvConf.host(config.hostResolvConf()));
    }

    private Attachment attachNone(String containerId) throws IOException {
        Path ns = netnsPath(containerId);
        synchronized (allocation) {
            requireNotAttached(containerId);
            store.write(new Endpoint(containerId, "none", ns, -1, 0, -1, null, null, List.of()));
        }
        try {
            Netns.create(ns);
            insideNetns(ns, "link set lo up\n");
            return new Attachment(containerId, "none", ns, null, 0, null, null, null, List.of(),
                    ResolvConf.forContainer(config.hostResolvConf()));
        } catch (IOException | RuntimeException ex) {
            undo(containerId, ex);
            throw ex;
        }
    }

    private Attachment attachBridge(String containerId, Spec spec) throws IOException {
        List<PortBinding> requested = new ArrayList<>();
        for (PortBinding p : spec.ports() == null ? List.<PortBinding>of() : spec.ports()) {
            requested.add(normalize(p));
        }
        Bridge br = bridge();
        Path ns = netnsPath(containerId);
        Endpoint e;
        synchronized (allocation) {
            requireNotAttached(containerId);
            List<Endpoint> existing = store.all();
            List<PortBinding> ports = allocatePorts(requested, existing);
            Subnet subnet = Subnet.parse(br.subnet() + "/" + br.prefixLength());
            long gateway = Subnet.parseAddress(br.gateway());
            long address = allocateAddress(subnet, gateway, existing);
            e = new Endpoint(containerId, "bridge", ns, address, br.prefixLength(), gateway, br.name(),
                    newVethName(existing), ports);
            store.write(e);
        }
        try {
            Netns.create(ns);
            String ip = Subnet.format(e.address());
            Commands.run(List.of(ip(), "-batch", "-"),
                    // the peer is born inside the namespace as eth0, so it never clashes with the host's eth0
                    "link add " + e.veth() + " type veth peer name eth0 address " + Subnet.macFor(e.address())
                            + " netns " + ns + "\n"
                            + "link set dev " + e.veth() + " master " + br.name() + "\n"
                            // as Docker without its userland proxy: when br_netfilter DNATs a bridged frame back to
                            // its sender, it must be allowed out of the port it came in by
                            + "link set dev " + e.veth() + " type bridge_slave hairpin on\n"
                            + "link set dev " + e.veth() + " up\n");
            insideNetns(ns, "link set lo up\n"
                    + "addr add " + ip + "/" + e.prefixLength() + " dev eth0\n"
                    + "link set eth0 up\n"
                    + "route add default via " + br.gateway() + " dev eth0\n");
            publish(e);
            return bridgeAttachment(e);
        } catch (IOException | RuntimeException ex) {
            undo(containerId, ex);
            throw ex;
        }
    }

    private Attachment bridgeAttachment(Endpoint e) throws IOException {
        return new Attachment(e.containerId(), "bridge", e.netnsPath(), Subnet.format(e.address()), e.prefixLength(),
                Subnet.format(e.gateway()), Subnet.macFor(e.address()), e.bridge(), e.ports(),
                ResolvConf.forContainer(config.hostResolvConf()));
    }

    private void publish(Endpoint e) throws IOException {
        iptables().apply(portRules(e, "-A"));
    }

    /** The rules of a container's published ports: a DNAT from the host's port and an ACCEPT into the bridge. */
    private List<Iptables.Change> portRules(Endpoint e, String op) {
        List<Iptables.Change> changes = new ArrayList<>();
        String ip = Subnet.format(e.address());
        String br = e.bridge();
        String tag = tag(e.containerId());
        for (PortBinding p : e.ports()) {
            String proto = p.protocol();
            String containerPort = Integer.toString(p.containerPort());
            List<String> dnat = new ArrayList<>();
            if (!p.hostIp().equals("0.0.0.0")) {
                dnat.addAll(List.of("-d", p.hostIp() + "/32"));
            }
            dnat.addAll(List.of("-p", proto, "-m", proto, "--dport", Integer.toString(p.hostPort()), "-m", "comment",
                    "--comment", tag, "-j", "DNAT", "--to-destination", ip + ":" + containerPort));
            changes.add(new Iptables.Change("filter", op, forwardChain, List.of("-d", ip + "/32", "!", "-i", br, "-o", br,
                    "-p", proto, "-m", proto, "--dport", containerPort, "-m", "comment", "--comment", tag, "-j", "ACCEPT")));
            changes.add(new Iptables.Change("nat", op, natChain, dnat));
        }
        return changes;
    }

    private void undo(String containerId, Exception cause) {
        try {
            detach(containerId);
        } catch (IOException | RuntimeException cleanup) {
            cause.addSuppressed(cleanup);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // the bridge

    /**
     * Makes sure the bridge exists with its address, forwarding is on and Berth's chains and jump rules are in place;
     * returns it. An existing bridge keeps its address (an agent restart changes nothing for running containers).
     *
     * @throws IOException when the bridge carries another subnet than the configured one, when no candidate subnet
     *                     is free, or when a tool fails (the message names the command and its error)
     */
    public Bridge bridge() throws IOException {
        synchronized (bridgeLock) {
            Bridge b = bridge;
            if (b != null && linkExists(b.name())) {
                return b;
            }
            b = setUpBridge();
            bridge = b;
            return b;
        }
    }

    private Bridge setUpBridge() throws IOException {
        String name = config.bridgeName();
        Subnet configured = config.subnet() == null ? null : Subnet.parse(config.subnet());
        Subnet subnet;
        long gateway;
        long[] current = linkExists(name) ? linkAddress(name) : null;
        if (current != null) {
            subnet = new Subnet(current[0], (int) current[1]);
            gateway = current[0];
            if (configured != null && !configured.equals(subnet)) {
                throw new IOException("bridge " + name + " has the address " + Subnet.format(gateway) + "/"
                        + subnet.prefixLength() + ", but subnet " + configured
                        + " is configured: remove the bridge or change the configuration");
            }
        } else {
            List<Subnet> rejected = new ArrayList<>();
            boolean existed = linkExists(name);
            boolean present = existed;
            while (true) {
                subnet = chooseSubnet(configured, rejected);
                gateway = subnet.address(1);
                try {
                    Commands.run(List.of(ip(), "-batch", "-"),
                            (present ? "" : "link add name " + name + " type bridge\n")
                                    + "addr add " + Subnet.format(gateway) + "/" + subnet.prefixLength() + " dev " + name + "\n"
                                    + "link set " + name + " up\n");
                } catch (IOException ex) {
                    if (!existed) {
                        try {
                            deleteLink(name);
                        } catch (IOException cleanup) {
                            ex.addSuppressed(cleanup);
                        }
                    }
                    throw new IOException("creating bridge " + name + " with " + subnet + ": " + ex.getMessage(), ex);
                }
                present = true;
                // another agent may have taken the same subnet between our look at the routes and now
                if (configured != null || routesOverlapping(subnet, name).isEmpty()) {
                    break;
                }
                Commands.run(ip(), "addr", "flush", "dev", name);
                rejected.add(subnet);
                if (rejected.size() >= MAX_BRIDGE_ATTEMPTS) {
                    if (!existed) {
                        deleteLink(name);
                    }
                    throw new IOException("bridge " + name + ": subnets " + rejected + " were taken by other interfaces while setting up");
                }
            }
        }
        Files.createDirectories(subnetFile.getParent());
        Files.writeString(subnetFile, subnet + "\n", StandardCharsets.UTF_8);
        writeSysctl(Path.of("/proc/sys/net/ipv4/ip_forward"), "1");
        // published ports answer on the host's loopback: DNAT of 127.0.0.1 out of the bridge needs this
        writeSysctl(Path.of("/proc/sys/net/ipv4/conf", name, "route_localnet"), "1");
        ensureRules(name, subnet);
        return new Bridge(name, Subnet.format(subnet.network()), Subnet.format(gateway), subnet.prefixLength());
    }

    private void ensureRules(String br, Subnet subnet) throws IOException {
        Iptables t = iptables();
        t.ensureChain("nat", natChain);
        t.ensureChain("nat", postChain);
        t.ensureChain("filter", forwardChain);
        // a bridge that was given another subnet since: its old masquerade rule goes
        for (String line : t.rules("nat", postChain)) {
            List<String> tok = Iptables.tokenize(line);
            int s = tok.indexOf("-s");
            if (tok.contains("MASQUERADE") && !tok.contains("--comment") && s >= 0 && s + 1 < tok.size()
                    && !tok.get(s + 1).equals(subnet.toString())) {
                t.deleteRule("nat", postChain, tok.subList(2, tok.size()));
            }
        }
        t.ensureRule("nat", postChain, List.of("-s", subnet.toString(), "!", "-o", br, "-j", "MASQUERADE"), false);
        // connections from the host itself (its loopback included) to a published port
        t.ensureRule("nat", postChain, List.of("-m", "addrtype", "--src-type", "LOCAL", "-o", br, "-j", "MASQUERADE"), false);
        // a container reaching a published port (its own or another's) through a host address: without this the
        // answer would go straight over the bridge from an address the client never called, and be refused
        t.ensureRule("nat", postChain, List.of("-s", subnet.toString(), "-o", br, "-m", "conntrack", "--ctstate", "DNAT",
                "-j", "MASQUERADE"), false);
        t.ensureRule("filter", forwardChain, List.of("-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED",
                "-j", "ACCEPT"), false);
        t.ensureRule("filter", forwardChain, List.of("-i", br, "-j", "ACCEPT"), false);
        // the jumps come last, so traffic never meets a half-filled chain
        t.ensureRule("nat", "PREROUTING", natJump(), false);
        t.ensureRule("nat", "OUTPUT", natJump(), false);
        t.ensureRule("nat", "POSTROUTING", List.of("-j", postChain), false);
        t.ensureRule("filter", "FORWARD", List.of("-j", forwardChain), true);
    }

    private List<String> natJump() {
        return List.of("-m", "addrtype", "--dst-type", "LOCAL", "-j", natChain);
    }

    /**
     * Removes every container network recorded by this instance, Berth's chains and jump rules for the bridge, the
     * bridge itself and its recorded subnet. For tests and for taking a node out of service: an agent restart must
     * not call it, since running containers would lose their network. Leaves ip_forward on (other software may
     * rely on it, as with Docker).
     */
    public void removeBridge() throws IOException {
        IOException failure = null;
        for (Endpoint e : store.all()) {
            try {
                detach(e.containerId());
            } catch (IOException ex) {
                failure = chain(failure, ex);
            }
        }
        try {
            Iptables t = iptables();
            t.deleteRule("nat", "PREROUTING", natJump());
            t.deleteRule("nat", "OUTPUT", natJump());
            t.deleteRule("nat", "POSTROUTING", List.of("-j", postChain));
            t.deleteRule("filter", "FORWARD", List.of("-j", forwardChain));
            t.removeChain("nat", natChain);
            t.removeChain("nat", postChain);
            t.removeChain("filter", forwardChain);
        } catch (IOException ex) {
            failure = chain(failure, ex);
        }
        synchronized (bridgeLock) {
            try {
                deleteLink(config.bridgeName());
                bridge = null;
            } catch (IOException ex) {
                failure = chain(failure, ex);
            }
        }
        if (failure != null) {
            throw failure;
        }
        Files.deleteIfExists(subnetFile);
        deleteEmptyDir(subnetFile.getParent());
        deleteEmptyDir(store.dir());
    }

    private Subnet chooseSubnet(Subnet configured, List<Subnet> rejected) throws IOException {
        if (configured != null) {
            return configured;
        }
        List<Subnet> taken = new ArrayList<>(rejected);
        for (Route r : routes()) {
            if (!r.iface().equals(config.bridgeName())) {
                taken.add(r.destination());
            }
        }
        // a nameserver inside the bridge's subnet would become unreachable for the host
        for (String ns : ResolvConf.nameservers(ResolvConf.host(config.hostResolvConf()))) {
            try {
                taken.add(new Subnet(Subnet.parseAddress(ns), 32));
            } catch (IllegalArgumentException ipv6) {
                // IPv6 nameservers cannot collide with an IPv4 subnet
            }
        }
        try {
            Subnet previous = Subnet.parse(Files.readString(subnetFile, StandardCharsets.UTF_8).trim());
            if (taken.stream().noneMatch(previous::overlaps)) {
                return previous;
            }
        } catch (NoSuchFileException | IllegalArgumentException ignored) {
            // never set up, or an unreadable record: choose afresh
        }
        for (String c : config.candidates()) {
            Subnet candidate = Subnet.parse(c);
            if (taken.stream().noneMatch(candidate::overlaps)) {
                return candidate;
            }
        }
        throw new IOException("no free subnet for bridge " + config.bridgeName() + ": every candidate of "
                + config.candidates() + " overlaps a route of the host; configure one");
    }

    private List<Route> routesOverlapping(Subnet subnet, String exceptIface) throws IOException {
        List<Route> list = new ArrayList<>();
        for (Route r : routes()) {
            if (!r.iface().equals(exceptIface) && r.destination().overlaps(subnet)) {
                list.add(r);
            }
        }
        return list;
    }

    /** A route of the host's main table (the default route excluded). */
    record Route(String iface, Subnet destination) {
    }

    /** The host's IPv4 routes from /proc/net/route (which prints addresses in the machine's byte order). */
    static List<Route> routes() throws IOException {
        List<Route> list = new ArrayList<>();
        boolean little = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
        List<String> lines = Files.readAllLines(PROC_ROUTE, StandardCharsets.US_ASCII);
        for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 8) {
                continue;
            }
            long dst = Integer.toUnsignedLong(order(Integer.parseUnsignedInt(f[1], 16), little));
            long mask = Integer.toUnsignedLong(order(Integer.parseUnsignedInt(f[7], 16), little));
            int len = Long.bitCount(mask);
            if (len == 0) {
                continue;
            }
            list.add(new Route(f[0], new Subnet(dst, len)));
        }
        return list;
    }

    private static int order(int value, boolean little) {
        return little ? Integer.reverseBytes(value) : value;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // allocation

    private static void checkId(String containerId) throws IOException {
        if (containerId == null || !CONTAINER_ID.matcher(containerId).matches()) {
            throw new InvalidNetworkSpecException("invalid container id \"" + containerId + "\"");
        }
    }

    private static String normalizeMode(String mode) throws IOException {
        String m = mode == null ? "" : mode.trim().toLowerCase(Locale.ROOT);
        return switch (m) {
            case "", "default", "bridge" -> "bridge";
            case "host", "none" -> m;
            default -> throw new InvalidNetworkSpecException("network mode \"" + mode + "\" is not supported on this node (bridge, host or none)");
        };
    }

    private void requireNotAttached(String containerId) throws IOException {
        if (store.exists(containerId)) {
            throw new IOException("the network of container " + containerId + " is already set up");
        }
    }

    private static PortBinding normalize(PortBinding p) throws IOException {
        Objects.requireNonNull(p, "port binding");
        String proto = p.protocol() == null || p.protocol().isBlank() ? "tcp" : p.protocol().trim().toLowerCase(Locale.ROOT);
        if (!proto.equals("tcp") && !proto.equals("udp")) {
            throw new InvalidNetworkSpecException("invalid protocol \"" + p.protocol() + "\" for port " + p.containerPort() + ": tcp or udp");
        }
        if (p.containerPort() < 1 || p.containerPort() > 65535) {
            throw new InvalidNetworkSpecException("invalid container port " + p.containerPort() + "/" + proto + ": 1-65535");
        }
        if (p.hostPort() < 0 || p.hostPort() > 65535) {
            throw new InvalidNetworkSpecException("invalid host port " + p.hostPort() + " for " + p.containerPort() + "/" + proto + ": 0-65535");
        }
        String hostIp = p.hostIp() == null ? "" : p.hostIp().trim();
        if (hostIp.isEmpty()) {
            hostIp = "0.0.0.0";
        } else if (hostIp.contains(":")) {
            throw new InvalidNetworkSpecException("cannot publish " + p.containerPort() + "/" + proto + " on " + hostIp
                    + ": IPv6 host addresses are not supported (the bridge has no IPv6)");
        } else {
            try {
                hostIp = Subnet.format(Subnet.parseAddress(hostIp));
            } catch (IllegalArgumentException e) {
                throw new InvalidNetworkSpecException("invalid host IP \"" + p.hostIp() + "\" for port " + p.containerPort() + "/" + proto);
            }
        }
        return new PortBinding(hostIp, p.hostPort(), p.containerPort(), proto);
    }

    private static List<PortBinding> allocatePorts(List<PortBinding> requested, List<Endpoint> existing) throws IOException {
        List<PortBinding> taken = new ArrayList<>();
        existing.forEach(e -> taken.addAll(e.ports()));
        List<PortBinding> result = new ArrayList<>();
        for (PortBinding p : requested) {
            int hostPort = p.hostPort();
            if (hostPort == 0) {
                hostPort = randomFreePort(p, taken);
            } else {
                if (conflicts(taken, p.protocol(), p.hostIp(), hostPort)) {
                    throw new IOException("Bind for " + p.hostIp() + ":" + hostPort + " failed: port is already allocated");
                }
                String inUse = probe(p.protocol(), p.hostIp(), hostPort);
                if (inUse != null) {
                    throw new IOException("Bind for " + p.hostIp() + ":" + hostPort + " failed: port is already allocated ("
                            + inUse + ")");
                }
            }
            PortBinding resolved = new PortBinding(p.hostIp(), hostPort, p.containerPort(), p.protocol());
            result.add(resolved);
            taken.add(resolved);
        }
        return List.copyOf(result);
    }

    private static boolean conflicts(List<PortBinding> taken, String proto, String hostIp, int hostPort) {
        for (PortBinding t : taken) {
            if (t.protocol().equals(proto) && t.hostPort() == hostPort
                    && (t.hostIp().equals(hostIp) || t.hostIp().equals("0.0.0.0") || hostIp.equals("0.0.0.0"))) {
                return true;
            }
        }
        return false;
    }

    private static int randomFreePort(PortBinding p, List<PortBinding> taken) throws IOException {
        int[] range = ephemeralRange();
        int span = range[1] - range[0] + 1;
        int start = ThreadLocalRandom.current().nextInt(span);
        for (int i = 0; i < span; i++) {
            int port = range[0] + (start + i) % span;
            if (!conflicts(taken, p.protocol(), p.hostIp(), port) && probe(p.protocol(), p.hostIp(), port) == null) {
                return port;
            }
        }
        throw new IOException("no free host port for " + p.containerPort() + "/" + p.protocol() + " on " + p.hostIp()
                + " in " + range[0] + "-" + range[1]);
    }

    private static int[] ephemeralRange() {
        try {
            String[] f = readProcFile(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
            return new int[]{Integer.parseInt(f[0]), Integer.parseInt(f[1])};
        } catch (IOException | RuntimeException e) {
            return new int[]{32768, 60999};
        }
    }

    /**
     * Whether a socket of the host holds the port: null when it is free, else why not. A host address that is not
     * local is an error of its own.
     */
    private static String probe(String proto, String hostIp, int port) throws IOException {
        InetSocketAddress addr = new InetSocketAddress(InetAddress.getByName(hostIp), port);
        try {
            if (proto.equals("udp")) {
                try (DatagramSocket s = new DatagramSocket(null)) {
                    s.bind(addr);
                }
            } else {
                try (ServerSocket s = new ServerSocket()) {
                    // ignore TIME_WAIT leftovers: only a live socket makes the port unusable
                    s.setReuseAddress(true);
                    s.bind(addr);
                }
            }
            return null;
        } catch (BindException e) {
            String msg = String.valueOf(e.getMessage());
            if (msg.contains("assign requested address")) {
                throw new InvalidNetworkSpecException("cannot publish on " + hostIp + ":" + port + "/" + proto + ": " + hostIp
                        + " is not an address of this host");
            }
            return "address already in use on the host";
        }
    }

    private static long allocateAddress(Subnet subnet, long gateway, List<Endpoint> existing) throws IOException {
        Set<Long> used = new HashSet<>();
        existing.forEach(e -> used.add(e.address()));
        for (long n = 2; n < subnet.size() - 1; n++) {
            long a = subnet.address(n);
            if (a != gateway && !used.contains(a)) {
                return a;
            }
        }
        throw new IOException("no free address left in " + subnet);
    }

    private static String newVethName(List<Endpoint> existing) {
        Set<String> used = new HashSet<>();
        existing.forEach(e -> used.add(e.veth()));
        while (true) {
            String name = String.format("veth%08x", ThreadLocalRandom.current().nextInt());
            if (!used.contains(name) && !Files.exists(SYS_NET.resolve(name))) {
                return name;
            }
        }
    }

    private static String tag(String containerId) {
        return "berth:" + containerId;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // tools

    private Iptables iptables() throws IOException {
        Iptables t = iptables;
        if (t == null) {
            synchronized (bridgeLock) {
                if (iptables == null) {
                    iptables = Iptables.detect(config.iptables());
                }
                t = iptables;
            }
        }
        return t;
    }

    private static String ip() throws IOException {
        return Commands.require("ip", "iproute2");
    }

    private static void insideNetns(Path ns, String ipBatch) throws IOException {
        Commands.run(List.of(Commands.require("nsenter", "util-linux"), "--net=" + ns, ip(), "-batch", "-"), ipBatch);
    }

    private static boolean linkExists(String name) {
        return Files.exists(SYS_NET.resolve(name));
    }

    /** The first IPv4 address of a link as {network-address-with-host-bits, prefix}, or null. */
    private static long[] linkAddress(String name) throws IOException {
        String out = Commands.run(ip(), "-4", "-o", "addr", "show", "dev", name);
        for (String line : out.lines().toList()) {
            String[] f = line.trim().split("\\s+");
            for (int i = 0; i + 1 < f.length; i++) {
                if (f[i].equals("inet")) {
                    String[] a = f[i + 1].split("/");
                    return new long[]{Subnet.parseAddress(a[0]), Integer.parseInt(a[1])};
                }
            }
        }
        return null;
    }

    private static void deleteLink(String name) throws IOException {
        if (!linkExists(name)) {
            return;
        }
        Commands.Result r = Commands.exec(List.of(ip(), "link", "del", "dev", name), null);
        if (!r.ok() && linkExists(name)) {
            throw new IOException(r.describe());
        }
    }

    private static void writeSysctl(Path file, String value) throws IOException {
        try {
            if (readProcFile(file).trim().equals(value)) {
                return;
            }
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new IOException("write " + file + " = " + value + ": " + e, e);
        }
    }

    /**
     * Reads a /proc or /sys file through a stream: these files report a size of 0, and {@link Files#readString}
     * trusts the size and may return only the first byte.
     */
    static String readProcFile(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    private static void deleteEmptyDir(Path dir) {
        try {
            Files.deleteIfExists(dir);
        } catch (IOException notEmptyOrBusy) {
            // other bridges' records or an attach in flight: leave it
        }
    }

    private static IOException chain(IOException first, IOException next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }
}
