package dev.berth.node.runtime;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.node.cgroup.CgroupManager;
import dev.berth.node.nativeio.Errno;
import dev.berth.node.nativeio.Libc;
import dev.berth.node.nativeio.LinuxException;
import dev.berth.node.network.NodeNetwork;
import dev.berth.node.snapshot.Snapshotter;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The node's container runtime over berth-shim (see docs/node/runtime.md and docs/adr/0005-node-shim.md).
 *
 * <p>Layout: {@code <stateRoot>/containers/<id>/} keeps what survives a reboot (container.json, the json-file log,
 * hostname, hosts, resolv.conf); {@code <runRoot>/tasks/<id>/} is the shim's bundle (config, pid files, the
 * attach socket, the exit file); {@code <runRoot>/execs/<execId>/} one per exec. ({@code <runRoot>/containers/} is
 * the snapshotter's: rootfs mount targets.)
 *
 * <p>The snapshotter, cgroup manager and network may be null: then the rootfs must be given as a directory, there
 * are no limits (pause, stats need a cgroup) and only "none" (a fresh network namespace) and "host" networking exist.
 */
public final class ShimRuntime implements ContainerRuntime {
    /** Docker's masked paths (moby oci/defaults.go). */
    static final List<String> MASKED_PATHS = List.of("/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
            "/sys/firmware", "/sys/devices/virtual/powercap");
    static final List<String> READONLY_PATHS = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
            "/proc/sysrq-trigger");
    static final String DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final Map<String, Integer> RLIMITS = Map.ofEntries(Map.entry("cpu", 0), Map.entry("fsize", 1),
            Map.entry("data", 2), Map.entry("stack", 3), Map.entry("core", 4), Map.entry("rss", 5),
            Map.entry("nproc", 6), Map.entry("nofile", 7), Map.entry("memlock", 8), Map.entry("as", 9),
            Map.entry("locks", 10), Map.entry("sigpending", 11), Map.entry("msgqueue", 12), Map.entry("nice", 13),
            Map.entry("rtprio", 14), Map.entry("rttime", 15));
    private static final Pattern ID = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");
    private static final Duration DEFAULT_STOP = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /**
     * Where things go.
     *
     * @param stateRoot e.g. /var/lib/berth
     * @param runRoot   e.g. /run/berth
     * @param shim      the berth-shim binary
     */
    public record Config(Path stateRoot, Path runRoot, Path shim) {
        public static Config defaults(Path shim) {
            return new Config(Path.of("/var/lib/berth"), Path.of("/run/berth"), shim);
        }
    }

    /** What the agent remembers about a container (container.json). */
    record Persisted(String id, ContainerSpec spec, String rootfs, int uid, int gid, List<Integer> groups, String home,
                     long caps, String status, int pid, int shimPid, int exitCode, boolean oomKilled, String error,
                     String createdAt, String startedAt, String finishedAt) {
    }

    private static final class Container {
        final String id;
        final ContainerSpec spec;
        final Path stateDir, runDir;
        Path rootfs;
        UserResolver.Identity identity;
        long caps;
        ContainerState.Status status = ContainerState.Status.CREATED;
        int pid, shimPid, exitCode;
        boolean oomKilled, removing;
        /** False from a start until the exit has been recorded and the exit listeners have run. */
        boolean settled = true;
        String error;
        Instant createdAt = Instant.now(), startedAt, finishedAt;
        CgroupManager.Cgroup cgroup;
        NodeNetwork.Attachment attachment;

        Container(String id, ContainerSpec spec, Path stateDir, Path runDir) {
            this.id = id;
            this.spec = spec;
            this.stateDir = stateDir;
            this.runDir = runDir;
        }

        boolean running() {
            return status == ContainerState.Status.RUNNING || status == ContainerState.Status.PAUSED;
        }

        Path log() {
            return stateDir.resolve(id + "-json.log");
        }

        String hostname() {
            return spec.hostname() != null && !spec.hostname().isEmpty() ? spec.hostname()
                    : id.substring(0, Math.min(12, id.length()));
        }

        ContainerState state() {
            return new ContainerState(id, status, running() ? pid : 0, exitCode, oomKilled, error, startedAt, finishedAt);
        }
    }

    private final Config config;
    private final Snapshotter snapshotter;
    private final CgroupManager cgroups;
    private final NodeNetwork network;
    private final Map<String, Container> containers = new ConcurrentHashMap<>();
    private final List<Consumer<ContainerState>> exitListeners = new CopyOnWriteArrayList<>();
    private final SecureRandom random = new SecureRandom();
    private final java.util.Set<AttachStream> watchers = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /**
     * Opens the runtime over its roots and recovers the containers found there: running ones are watched again,
     * exits that happened meanwhile are recorded with their codes.
     */
    public ShimRuntime(Config config, Snapshotter snapshotter, CgroupManager cgroups, NodeNetwork network)
            throws IOException {
        this.config = config;
        this.snapshotter = snapshotter;
        this.cgroups = cgroups;
        this.network = network;
        if (!Files.isExecutable(config.shim())) {
            throw new IOException("berth-shim not found or not executable at " + config.shim());
        }
        Files.createDirectories(config.stateRoot().resolve("containers"));
        Files.createDirectories(config.runRoot().resolve("tasks"));
        Files.createDirectories(config.runRoot().resolve("execs"));
        recover();
    }

    // ------------------------------------------------------------------------------------------------ create

    @Override
    public ContainerState create(String id, ContainerSpec spec) throws IOException {
        if (id == null || !ID.matcher(id).matches()) {
            throw RuntimeFailure.badRequest("invalid container id " + (id == null ? "null" : "\"" + id + "\""));
        }
        if (spec.command().isEmpty()) {
            throw RuntimeFailure.badRequest("No command specified");
        }
        if ((spec.chainId() == null) == (spec.rootfs() == null)) {
            throw RuntimeFailure.badRequest("exactly one of an image (layer chain) or a rootfs directory is needed");
        }
        if (spec.workingDir() != null && !spec.workingDir().isEmpty() && !spec.workingDir().startsWith("/")) {
            throw RuntimeFailure.badRequest("the working directory '" + spec.workingDir()
                    + "' is invalid, it needs to be an absolute path");
        }
        long caps = Capabilities.compute(spec.capAdd(), spec.capDrop(), spec.privileged());
        Signals.parse(spec.stopSignal(), Signals.SIGTERM);
        for (ContainerSpec.Ulimit u : spec.ulimits()) {
            rlimitNumber(u);
        }
        for (ContainerSpec.Mount m : spec.mounts()) {
            checkMount(m);
        }
        Path stateDir = config.stateRoot().resolve("containers").resolve(id);
        Path runDir = config.runRoot().resolve("tasks").resolve(id);
        Container c = new Container(id, spec, stateDir, runDir);
        if (containers.putIfAbsent(id, c) != null) {
            throw RuntimeFailure.conflict("container " + id + " already exists");
        }
        boolean prepared = false;
        try {
            try {
                Files.createDirectory(stateDir);
            } catch (FileAlreadyExistsException e) {
                throw RuntimeFailure.conflict("container " + id + " already exists (" + stateDir + ")");
            }
            if (spec.chainId() != null) {
                if (snapshotter == null) {
                    throw RuntimeFailure.badRequest("this node has no snapshotter: give a rootfs directory");
                }
                if (!snapshotter.has(spec.chainId())) {
                    throw RuntimeFailure.notFound("No such image: layer chain " + spec.chainId()
                            + " is not unpacked on this node");
                }
                prepared = true;
                Snapshotter.RootfsMount m = snapshotter.prepare(id, spec.chainId());
                snapshotter.mount(m);
                c.rootfs = m.target();
            } else {
                if (!Files.isDirectory(spec.rootfs())) {
                    throw RuntimeFailure.badRequest("rootfs " + spec.rootfs() + " is not a directory");
                }
                c.rootfs = spec.rootfs().toAbsolutePath().normalize();
            }
            c.identity = UserResolver.resolve(c.rootfs, spec.user(), spec.groupAdd());
            c.caps = caps;
            persist(c);
            return c.state();
        } catch (IOException | RuntimeException e) {
            containers.remove(id, c);
            if (prepared) {
                try {
                    snapshotter.remove(id);
                } catch (IOException ex) {
                    e.addSuppressed(ex);
                }
            }
            deleteTree(stateDir, e);
            throw e;
        }
    }

    private static int rlimitNumber(ContainerSpec.Ulimit u) throws RuntimeFailure {
        Integer n = RLIMITS.get(u.name());
        if (n == null) {
            throw RuntimeFailure.badRequest("invalid ulimit type: " + u.name());
        }
        if (u.soft() > u.hard()) {
            throw RuntimeFailure.badRequest("ulimit soft limit must be less than or equal to hard limit: "
                    + u.soft() + " > " + u.hard());
        }
        return n;
    }

    private static void checkMount(ContainerSpec.Mount m) throws RuntimeFailure {
        if (m.target() == null || !m.target().startsWith("/")) {
            throw RuntimeFailure.badRequest("invalid mount config: mount path must be absolute: " + m.target());
        }
        switch (m.type()) {
            case "bind" -> {
                if (m.source() == null || !m.source().startsWith("/") || !Files.exists(Path.of(m.source()))) {
                    throw RuntimeFailure.badRequest("invalid mount config for type \"bind\": bind source path does not exist: "
                            + m.source());
                }
            }
            case "tmpfs" -> {
            }
            default -> throw RuntimeFailure.badRequest("invalid mount config: mount type unknown: \"" + m.type() + "\"");
        }
    }

    // ------------------------------------------------------------------------------------------------ start

    @Override
    public ContainerState start(String id) throws IOException {
        AttachStream s = doStart(id, false);
        if (s != null) {
            s.close();
        }
        return state(id);
    }

    @Override
    public AttachStream startAttached(String id) throws IOException {
        return doStart(id, true);
    }

    private AttachStream doStart(String id, boolean attach) throws IOException {
        Container c = get(id);
        synchronized (c) {
            if (c.removing) {
                throw RuntimeFailure.conflict("container " + id + " is being removed");
            }
            if (c.running()) {
                return attach ? attach(id) : null;
            }
            releaseResources(c);
            deleteTree(c.runDir, null);
            Files.createDirectories(c.runDir);
            AttachStream stream = null;
            int shimPid = 0;
            try {
                if (cgroups != null) {
                    c.cgroup = cgroups.create(id, c.spec.resources());
                }
                c.attachment = attachNetwork(c);
                writeEtcFiles(c);
                shimConfig(c).writeTo(c.runDir.resolve("config"));
                Process p = new ProcessBuilder(config.shim().toString(), "run", c.runDir.toString())
                        .redirectError(ProcessBuilder.Redirect.appendTo(c.runDir.resolve("shim.log").toFile()))
                        .start();
                String ready = readReport(p, c.runDir);
                int pid = parseReport(ready, "ready", c.runDir);
                if (attach) {
                    stream = AttachStream.connect(c.runDir.resolve("attach"), 'a');
                }
                shimPid = ShimFiles.pid(c.runDir.resolve("shim.pid"));
                // Before "go": the process cannot have started, let alone finished, earlier than this.
                Instant startedAt = Instant.now();
                OutputStream go = p.getOutputStream();
                go.write("go\n".getBytes(StandardCharsets.US_ASCII));
                go.flush();
                go.close();
                parseReport(readReport(p, c.runDir), "started", c.runDir);
                p.waitFor();
                c.pid = pid;
                c.shimPid = shimPid;
                c.status = ContainerState.Status.RUNNING;
                c.startedAt = startedAt;
                c.finishedAt = null;
                c.exitCode = 0;
                c.error = null;
                c.oomKilled = false;
                c.settled = false;
                persist(c);
            } catch (IOException | RuntimeException e) {
                if (stream != null) {
                    stream.close();
                }
                if (e instanceof StartFailure sf) {
                    c.exitCode = sf.exitCode();
                    c.error = sf.getMessage();
                }
                try {
                    // The shim kills what it started and exits; nothing of this start may outlive the call.
                    waitShimGone(shimPid > 0 ? shimPid : ShimFiles.pid(c.runDir.resolve("shim.pid")), c.runDir);
                    releaseResources(c);
                } catch (IOException ex) {
                    e.addSuppressed(ex);
                }
                persist(c);
                throw e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while starting " + id, e);
            }
            watch(c);
            return stream;
        }
    }

    /** The shim's next report line; a shim that dies before reporting is an error naming its log. */
    private static String readReport(Process p, Path dir) throws IOException {
        String line = readLine(p);
        if (line == null) {
            String log = "";
            try {
                log = Files.readString(dir.resolve("shim.log")).strip();
            } catch (NoSuchFileException e) {
                // nothing logged
            }
            throw new IOException("berth-shim ended without reporting" + (log.isEmpty() ? "" : ": " + log));
        }
        return line;
    }

    private static String readLine(Process p) throws IOException {
        StringBuilder sb = new StringBuilder();
        var in = p.getInputStream();
        for (int b; (b = in.read()) >= 0; ) {
            if (b == '\n') {
                return new String(sb.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
            }
            sb.append((char) b);
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    /** "ready 123" / "started 123" give the PID; "error 127 message" becomes a {@link StartFailure}. */
    private static int parseReport(String line, String expected, Path dir) throws IOException {
        if (line.startsWith("error ")) {
            String rest = line.substring(6);
            int sp = rest.indexOf(' ');
            int code = 1;
            try {
                code = Integer.parseInt(sp < 0 ? rest : rest.substring(0, sp));
            } catch (NumberFormatException e) {
                // keep 1
            }
            throw new StartFailure(code, sp < 0 ? "start failed" : rest.substring(sp + 1));
        }
        if (!line.startsWith(expected + " ")) {
            throw new IOException("berth-shim in " + dir + " said \"" + line + "\", expected \"" + expected + "\"");
        }
        return Integer.parseInt(line.substring(expected.length() + 1).trim());
    }

    private NodeNetwork.Attachment attachNetwork(Container c) throws IOException {
        NodeNetwork.Spec n = c.spec.network();
        String mode = n == null ? "none" : n.mode();
        if (network != null) {
            return network.attach(c.id, new NodeNetwork.Spec(mode, n == null ? List.of() : n.ports(), c.hostname()));
        }
        return switch (mode) {
            case "none", "host" -> null;
            default -> throw RuntimeFailure.badRequest("network mode \"" + mode + "\" is not available on this node");
        };
    }

    private String netnsOf(Container c) {
        String mode = c.spec.network() == null ? "none" : c.spec.network().mode();
        if (c.attachment != null && c.attachment.netnsPath() != null) {
            return c.attachment.netnsPath().toString();
        }
        return mode.equals("host") ? "host" : "new";
    }

    private void writeEtcFiles(Container c) throws IOException {
        StringBuilder hosts = new StringBuilder("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                + "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
        if (c.attachment != null && c.attachment.ipAddress() != null) {
            hosts.append(c.attachment.ipAddress()).append('\t').append(c.hostname()).append('\n');
        }
        writeAtomic(c.stateDir.resolve("hosts"), hosts.toString());
        writeAtomic(c.stateDir.resolve("hostname"), c.hostname() + "\n");
        String resolv = c.attachment != null ? c.attachment.resolvConf() : null;
        if (resolv == null) {
            resolv = hostResolvConf();
        }
        writeAtomic(c.stateDir.resolve("resolv.conf"), resolv);
    }

    /** The host's resolv.conf without loopback servers (unreachable from a container), Google's when none is left. */
    private static String hostResolvConf() throws IOException {
        List<String> out = new ArrayList<>();
        boolean server = false;
        try {
            for (String line : Files.readAllLines(Path.of("/etc/resolv.conf"))) {
                String t = line.trim();
                if (t.startsWith("nameserver")) {
                    String addr = t.substring("nameserver".length()).trim();
                    if (addr.startsWith("127.") || addr.equals("::1")) {
                        continue;
                    }
                    server = true;
                }
                out.add(line);
            }
        } catch (NoSuchFileException e) {
            // none on the host
        }
        if (!server) {
            out.add("nameserver 8.8.8.8");
            out.add("nameserver 8.8.4.4");
        }
        return String.join("\n", out) + "\n";
    }

    private ShimConfig shimConfig(Container c) throws IOException {
        ContainerSpec s = c.spec;
        ShimConfig k = new ShimConfig();
        k.put("id", c.id).put("rootfs", c.rootfs).put("hostname", c.hostname());
        for (String a : s.command()) {
            k.put("arg", a);
        }
        for (String e : environment(c, List.of())) {
            k.put("env", e);
        }
        k.put("cwd", workingDir(s.workingDir(), "/"));
        putIdentity(k, c.identity);
        k.put("caps", Long.toUnsignedString(c.caps));
        k.put("tty", s.tty() ? 1 : 0).put("stdin", s.openStdin() ? 1 : 0).put("stdin_once", s.stdinOnce() ? 1 : 0);
        k.put("no_new_privs", s.noNewPrivileges() ? 1 : 0).put("readonly_rootfs", s.readonlyRootfs() ? 1 : 0);
        k.put("init", s.init() ? 1 : 0).put("sys_rw", s.privileged() ? 1 : 0);
        k.put("netns", netnsOf(c));
        if (c.cgroup != null) {
            for (String f : c.cgroup.procsFiles()) {
                k.put("cgroup_procs", f);
            }
        }
        for (ContainerSpec.Ulimit u : s.ulimits()) {
            k.put("rlimit", rlimitNumber(u), Long.toUnsignedString(u.soft()), Long.toUnsignedString(u.hard()));
        }
        for (ContainerSpec.Mount m : s.mounts()) {
            if (m.type().equals("bind")) {
                k.put("mount", "bind", m.source(), m.target(), m.readOnly() ? "rbind,ro" : "rbind,rw");
            } else {
                String opts = "noexec,nosuid,nodev" + (m.options() == null || m.options().isEmpty() ? "" : "," + m.options());
                k.put("mount", "tmpfs", m.target(), opts);
            }
        }
        k.put("file", "/etc/hostname", c.stateDir.resolve("hostname"));
        k.put("file", "/etc/hosts", c.stateDir.resolve("hosts"));
        k.put("file", "/etc/resolv.conf", c.stateDir.resolve("resolv.conf"));
        if (!s.privileged()) {
            MASKED_PATHS.forEach(p -> k.put("masked", p));
            READONLY_PATHS.forEach(p -> k.put("readonly", p));
        }
        k.put("log", c.log(), s.logMaxSize(), s.logMaxFiles());
        return k;
    }

    private static void putIdentity(ShimConfig k, UserResolver.Identity id) {
        k.put("user", Integer.toUnsignedString(id.uid()), Integer.toUnsignedString(id.gid()));
        for (int g : id.groups()) {
            k.put("group", Integer.toUnsignedString(g));
        }
    }

    private static String workingDir(String wd, String dflt) {
        return wd == null || wd.isEmpty() ? dflt : wd;
    }

    /** Docker's environment: PATH and HOSTNAME (TERM with a TTY) first, the spec's entries over them, HOME last. */
    private static List<String> environment(Container c, List<String> extra) {
        Map<String, String> env = new LinkedHashMap<>();
        put(env, DEFAULT_PATH);
        put(env, "HOSTNAME=" + c.hostname());
        if (c.spec.tty()) {
            put(env, "TERM=xterm");
        }
        c.spec.env().forEach(e -> put(env, e));
        extra.forEach(e -> put(env, e));
        env.putIfAbsent("HOME", "HOME=" + c.identity.home());
        return List.copyOf(env.values());
    }

    private static void put(Map<String, String> env, String entry) {
        int eq = entry.indexOf('=');
        env.put(eq < 0 ? entry : entry.substring(0, eq), entry);
    }

    // ------------------------------------------------------------------------------------------------ exit watching

    /** One thread per running container holds a 'w' connection to its shim; the shim closes it after the exit. */
    private void watch(Container c) {
        int shimPid = c.shimPid;
        Thread t = new Thread(() -> {
            try (AttachStream w = AttachStream.connect(c.runDir.resolve("attach"), 'w')) {
                watchers.add(w);
                try {
                    if (!closed) {
                        w.framedOutput().transferTo(OutputStream.nullOutputStream());
                    }
                } finally {
                    watchers.remove(w);
                }
            } catch (IOException e) {
                // socket gone: the process has exited already (or the shim died), or close(); the exit file tells
            }
            if (closed) {
                return;
            }
            try {
                // The exit file is written before the socket closes; a shim still alive is finishing up.
                while (ShimFiles.exit(c.runDir) == null && ShimFiles.shimAlive(shimPid, c.runDir)) {
                    Thread.sleep(20);
                }
                recordExit(c, shimPid);
            } catch (IOException e) {
                recordExitFailure(c, shimPid, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "berth-watch-" + c.id.substring(0, Math.min(12, c.id.length())));
        t.setDaemon(true);
        t.start();
    }

    private void recordExit(Container c, int shimPid) throws IOException {
        Map<String, String> exit = ShimFiles.exit(c.runDir);
        ContainerState st;
        synchronized (c) {
            if (c.shimPid != shimPid || !c.running()) {
                return; // a newer start already replaced this run
            }
            c.status = ContainerState.Status.EXITED;
            if (exit == null) {
                c.exitCode = 255;
                c.error = "berth-shim of this container died without recording the exit (see "
                        + c.runDir.resolve("shim.log") + ")";
                c.finishedAt = Instant.now();
            } else {
                c.exitCode = Integer.parseInt(exit.getOrDefault("exit_code", "255"));
                String ns = exit.get("finished_ns");
                c.finishedAt = ns == null ? Instant.now()
                        : Instant.ofEpochSecond(0, Long.parseLong(ns));
            }
            try {
                c.oomKilled = c.cgroup != null && c.cgroup.oomKills() > 0;
            } catch (IOException e) {
                c.oomKilled = false;
            }
            c.pid = 0;
            persist(c);
            st = c.state();
        }
        try {
            exitListeners.forEach(l -> l.accept(st));
        } finally {
            synchronized (c) {
                c.settled = true;
                c.notifyAll();
            }
        }
    }

    private void recordExitFailure(Container c, int shimPid, String why) {
        synchronized (c) {
            if (c.shimPid != shimPid || !c.running()) {
                return;
            }
            c.status = ContainerState.Status.EXITED;
            c.exitCode = 255;
            c.error = why;
            c.finishedAt = Instant.now();
            c.settled = true;
            try {
                persist(c);
            } catch (IOException e) {
                // the state in memory is right; the file is retried at the next change
            }
            c.notifyAll();
        }
    }

    @Override
    public ContainerState waitForExit(String id, Duration timeout) throws IOException {
        Container c = get(id);
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (c) {
            while (c.running() || !c.settled) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    c.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while waiting for " + id, e);
                }
            }
            return c.state();
        }
    }

    // ------------------------------------------------------------------------------------------------ signals

    @Override
    public ContainerState stop(String id, String signal, Duration timeout) throws IOException {
        Container c = get(id);
        int sig = Signals.parse(signal != null ? signal : c.spec.stopSignal(), Signals.SIGTERM);
        Duration wait = timeout != null ? timeout
                : c.spec.stopTimeoutSecs() >= 0 ? Duration.ofSeconds(c.spec.stopTimeoutSecs()) : DEFAULT_STOP;
        if (!signal(c, sig)) {
            return c.state();
        }
        ContainerState st = waitForExit(id, wait);
        if (st.running()) {
            signal(c, Signals.SIGKILL);
            st = waitForExit(id, Duration.ofSeconds(30));
            if (st.running()) {
                throw new IOException("container " + id + " did not exit after SIGKILL");
            }
        }
        return st;
    }

    @Override
    public void kill(String id, String signal) throws IOException {
        Container c = get(id);
        int sig = Signals.parse(signal, Signals.SIGKILL);
        if (!signal(c, sig)) {
            throw RuntimeFailure.conflict("Container " + id + " is not running");
        }
    }

    /** Signals the first process; a paused container is thawed so the signal can act. False if it is not running. */
    private boolean signal(Container c, int sig) throws IOException {
        synchronized (c) {
            if (!c.running() || c.pid <= 0) {
                return false;
            }
            try {
                Libc.kill(c.pid, sig);
            } catch (LinuxException e) {
                if (e.errno() != Errno.ESRCH) {
                    throw e;
                }
                return false;
            }
            if (c.status == ContainerState.Status.PAUSED) {
                c.cgroup.freeze(false);
                c.status = ContainerState.Status.RUNNING;
                persist(c);
            }
            return true;
        }
    }

    @Override
    public void pause(String id) throws IOException {
        Container c = get(id);
        synchronized (c) {
            requireRunning(c);
            if (c.status == ContainerState.Status.PAUSED) {
                throw RuntimeFailure.conflict("Container " + id + " is already paused");
            }
            requireCgroup(c).freeze(true);
            c.status = ContainerState.Status.PAUSED;
            persist(c);
        }
    }

    @Override
    public void unpause(String id) throws IOException {
        Container c = get(id);
        synchronized (c) {
            if (c.status != ContainerState.Status.PAUSED) {
                throw RuntimeFailure.conflict("Container " + id + " is not paused");
            }
            requireCgroup(c).freeze(false);
            c.status = ContainerState.Status.RUNNING;
            persist(c);
        }
    }

    @Override
    public void resize(String id, int rows, int cols) throws IOException {
        Container c = get(id);
        synchronized (c) {
            requireRunning(c);
            if (!c.spec.tty()) {
                throw RuntimeFailure.badRequest("Container " + id + " has no TTY to resize");
            }
            writeAtomic(c.runDir.resolve("winsize"), rows + " " + cols + "\n");
            Libc.kill(c.shimPid, 28 /* SIGWINCH: the shim rereads the winsize file */);
        }
    }

    private static void requireRunning(Container c) throws RuntimeFailure {
        if (!c.running()) {
            throw RuntimeFailure.conflict("Container " + c.id + " is not running");
        }
    }

    private static CgroupManager.Cgroup requireCgroup(Container c) throws RuntimeFailure {
        if (c.cgroup == null) {
            throw new RuntimeFailure(500, "container " + c.id + " has no cgroup on this node");
        }
        return c.cgroup;
    }

    // ------------------------------------------------------------------------------------------------ attach, exec

    @Override
    public AttachStream attach(String id) throws IOException {
        Container c = get(id);
        synchronized (c) {
            requireRunning(c);
        }
        return AttachStream.connect(c.runDir.resolve("attach"), 'a');
    }

    @Override
    public ExecProcess exec(String containerId, ExecSpec spec, boolean attach) throws IOException {
        Container c = get(containerId);
        if (spec.cmd().isEmpty()) {
            throw RuntimeFailure.badRequest("No exec command specified");
        }
        String execId = HexFormat.of().formatHex(randomBytes(32));
        Path dir = config.runRoot().resolve("execs").resolve(execId);
        ShimConfig k = new ShimConfig();
        int pid;
        synchronized (c) {
            requireRunning(c);
            if (c.status == ContainerState.Status.PAUSED) {
                throw RuntimeFailure.conflict("Container " + containerId + " is paused, unpause the container before exec");
            }
            pid = c.pid;
            UserResolver.Identity who = spec.user() == null || spec.user().isEmpty() ? c.identity
                    : UserResolver.resolve(c.rootfs, spec.user(), List.of());
            k.put("id", execId).put("pid", pid);
            spec.cmd().forEach(a -> k.put("arg", a));
            Container view = c;
            List<String> extra = new ArrayList<>(spec.env());
            if (spec.user() != null && !spec.user().isEmpty()) {
                extra.add("HOME=" + who.home());
            }
            for (String e : environment(view, extra)) {
                k.put("env", e);
            }
            k.put("cwd", workingDir(spec.workingDir(), workingDir(c.spec.workingDir(), "/")));
            putIdentity(k, who);
            k.put("caps", Long.toUnsignedString(spec.privileged() ? Capabilities.all() : c.caps));
            k.put("tty", spec.tty() ? 1 : 0).put("stdin", spec.attachStdin() ? 1 : 0).put("stdin_once", 1);
            k.put("no_new_privs", c.spec.noNewPrivileges() ? 1 : 0);
            if (c.cgroup != null) {
                c.cgroup.procsFiles().forEach(f -> k.put("cgroup_procs", f));
            }
        }
        Files.createDirectories(dir);
        writeAtomic(dir.resolve("container"), containerId + "\n");
        k.writeTo(dir.resolve("config"));
        AttachStream stream = null;
        try {
            Process p = new ProcessBuilder(config.shim().toString(), "exec", dir.toString())
                    .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("shim.log").toFile())).start();
            int execPid = parseReport(readReport(p, dir), "ready", dir);
            if (attach) {
                stream = AttachStream.connect(dir.resolve("attach"), 'a');
            }
            OutputStream go = p.getOutputStream();
            go.write("go\n".getBytes(StandardCharsets.US_ASCII));
            go.close();
            parseReport(readReport(p, dir), "started", dir);
            return new ExecProcess(execId, execPid, stream, dir);
        } catch (IOException | RuntimeException e) {
            if (stream != null) {
                stream.close();
            }
            throw e;
        }
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    // ------------------------------------------------------------------------------------------------ inspection

    @Override
    public TopResult top(String id) throws IOException {
        Container c = get(id);
        List<Integer> pids;
        synchronized (c) {
            requireRunning(c);
            pids = c.cgroup != null ? c.cgroup.pids() : ProcessTable.sameNamespace(c.pid);
        }
        return ProcessTable.top(pids);
    }

    @Override
    public CgroupManager.CgroupStats stats(String id) throws IOException {
        Container c = get(id);
        synchronized (c) {
            return requireCgroup(c).stats();
        }
    }

    @Override
    public ContainerState state(String id) throws IOException {
        Container c = get(id);
        synchronized (c) {
            return c.state();
        }
    }

    @Override
    public List<ContainerState> list() {
        List<ContainerState> out = new ArrayList<>();
        for (Container c : containers.values()) {
            synchronized (c) {
                out.add(c.state());
            }
        }
        out.sort(Comparator.comparing(ContainerState::id));
        return out;
    }

    @Override
    public void logs(String id, LogOptions options, Predicate<LogEntry> consumer) throws IOException {
        Container c = get(id);
        JsonFileLog.read(c.log(), c.spec.logMaxFiles(), options, () -> {
            synchronized (c) {
                return c.running() && !c.removing;
            }
        }, consumer);
    }

    @Override
    public void onExit(Consumer<ContainerState> listener) {
        exitListeners.add(listener);
    }

    private Container get(String id) throws RuntimeFailure {
        Container c = id == null ? null : containers.get(id);
        if (c == null) {
            throw RuntimeFailure.notFound("No such container: " + id);
        }
        return c;
    }

    // ------------------------------------------------------------------------------------------------ remove

    @Override
    public void remove(String id, boolean force) throws IOException {
        Container c = get(id);
        synchronized (c) {
            if (c.removing) {
                throw RuntimeFailure.conflict("removal of container " + id + " is already in progress");
            }
            if (c.running() && !force) {
                throw RuntimeFailure.conflict("You cannot remove a running container " + id
                        + ". Stop the container before attempting removal or force remove");
            }
            c.removing = true;
        }
        IOException failure = null;
        try {
            if (c.running()) {
                signal(c, Signals.SIGKILL);
                if (waitForExit(id, Duration.ofSeconds(30)).running()) {
                    throw new IOException("container " + id + " did not exit after SIGKILL");
                }
            }
            waitShimGone(c.shimPid, c.runDir);
            for (Path exec : execDirsOf(id)) {
                waitShimGone(ShimFiles.pid(exec.resolve("shim.pid")), exec);
                deleteTree(exec, null);
            }
            synchronized (c) {
                releaseResources(c);
            }
            if (snapshotter != null && c.spec.chainId() != null) {
                snapshotter.remove(id);
            }
            deleteTree(c.runDir, null);
            deleteTree(c.stateDir, null);
            containers.remove(id, c);
        } catch (IOException e) {
            failure = e;
        } finally {
            synchronized (c) {
                c.removing = false;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private List<Path> execDirsOf(String id) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(config.runRoot().resolve("execs"))) {
            for (Path d : ds) {
                try {
                    if (Files.readString(d.resolve("container")).trim().equals(id)) {
                        out.add(d);
                    }
                } catch (NoSuchFileException e) {
                    // being created or removed
                }
            }
        }
        return out;
    }

    /** A shim exits right after recording the exit; remove waits for that, so no process of the container stays. */
    private static void waitShimGone(int pid, Path dir) throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (ShimFiles.shimAlive(pid, dir)) {
            if (System.nanoTime() > deadline) {
                throw new IOException("berth-shim " + pid + " of " + dir + " is still running");
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
    }

    /** Destroys the cgroup and detaches the network (both tolerate what is already gone). */
    private void releaseResources(Container c) throws IOException {
        IOException first = null;
        if (cgroups != null) {
            try {
                CgroupManager.Cgroup cg = c.cgroup != null ? c.cgroup : cgroups.find(c.id);
                if (cg != null) {
                    cg.destroy();
                }
                c.cgroup = null;
            } catch (IOException e) {
                first = e;
            }
        }
        if (network != null) {
            try {
                network.detach(c.id);
                c.attachment = null;
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        c.attachment = null;
        if (first != null) {
            throw first;
        }
    }

    // ------------------------------------------------------------------------------------------------ persistence

    private void persist(Container c) throws IOException {
        Persisted p = new Persisted(c.id, c.spec, c.rootfs.toString(), c.identity.uid(), c.identity.gid(),
                c.identity.groups(), c.identity.home(), c.caps, c.status.name(), c.pid, c.shimPid, c.exitCode,
                c.oomKilled, c.error, str(c.createdAt), str(c.startedAt), str(c.finishedAt));
        writeAtomic(c.stateDir.resolve("container.json"), JSON.writeValueAsString(p));
    }

    private static String str(Instant i) {
        return i == null ? null : i.toString();
    }

    private static Instant instant(String s) {
        return s == null ? null : Instant.parse(s);
    }

    private void recover() throws IOException {
        List<Container> found = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(config.stateRoot().resolve("containers"))) {
            for (Path dir : (Iterable<Path>) dirs::iterator) {
                Path file = dir.resolve("container.json");
                if (!Files.isRegularFile(file)) {
                    continue;
                }
                Persisted p = JSON.readValue(file.toFile(), Persisted.class);
                Container c = new Container(p.id(), p.spec(), dir, config.runRoot().resolve("tasks").resolve(p.id()));
                c.rootfs = Path.of(p.rootfs());
                c.identity = new UserResolver.Identity(p.uid(), p.gid(), p.groups() == null ? List.of() : p.groups(), p.home());
                c.caps = p.caps();
                c.status = ContainerState.Status.valueOf(p.status());
                c.pid = p.pid();
                c.shimPid = p.shimPid();
                c.exitCode = p.exitCode();
                c.oomKilled = p.oomKilled();
                c.error = p.error();
                c.createdAt = instant(p.createdAt());
                c.startedAt = instant(p.startedAt());
                c.finishedAt = instant(p.finishedAt());
                c.settled = !c.running();
                if (cgroups != null) {
                    c.cgroup = cgroups.find(c.id);
                }
                if (network != null) {
                    c.attachment = network.find(c.id);
                }
                containers.put(c.id, c);
                found.add(c);
            }
        }
        for (Container c : found) {
            if (!c.running()) {
                continue;
            }
            if (ShimFiles.shimAlive(c.shimPid, c.runDir)) {
                watch(c);
            } else {
                recordExit(c, c.shimPid);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ files

    private static void writeAtomic(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Deletes a directory tree without following symlinks and without crossing into another mount (a rootfs still
     * mounted below would otherwise be emptied); errors are added to {@code into} or thrown.
     */
    private static void deleteTree(Path dir, Throwable into) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Object dev = Files.getAttribute(dir, "unix:dev", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            try (Stream<Path> walk = Files.walk(dir)) {
                List<Path> all = walk.toList();
                for (Path p : all) {
                    if (!dev.equals(Files.getAttribute(p, "unix:dev", java.nio.file.LinkOption.NOFOLLOW_LINKS))) {
                        throw new IOException("refusing to delete " + dir + ": " + p + " is another mount");
                    }
                }
                for (Path p : all.stream().sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            IOException io = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
            if (into != null) {
                into.addSuppressed(io);
            } else {
                throw io;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (AttachStream w : watchers) {
            try {
                w.close();
            } catch (IOException e) {
                // closing a wait connection cannot fail in a way that matters: the shim keeps running
            }
        }
        watchers.clear();
    }
}
