package dev.berth.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.events.Json;
import dev.berth.node.agent.ContainerRecord;
import dev.berth.node.agent.NodeContainers;
import dev.berth.node.runtime.AttachStream;
import dev.berth.node.runtime.ContainerRuntime;
import dev.berth.node.runtime.ContainerState;
import dev.berth.node.runtime.ExecProcess;
import dev.berth.node.runtime.ExecSpec;
import dev.berth.node.runtime.LogOptions;
import dev.berth.node.runtime.RuntimeFailure;
import dev.berth.node.snapshot.Snapshotter;
import org.jboss.logging.Logger;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The data-plane endpoints, in the Engine API's shapes (paths without the version prefix; a prefix is tolerated):
 * <ul>
 * <li>{@code GET /containers/{id}/logs} (follow, since, until, tail, timestamps, stdout, stderr)</li>
 * <li>{@code POST /containers/{id}/attach} (hijack; before start it waits for the start command)</li>
 * <li>{@code POST /containers/{id}/exec}, {@code POST /exec/{id}/start}, {@code GET /exec/{id}/json},
 * {@code POST /exec/{id}/resize}</li>
 * <li>{@code POST /containers/{id}/resize}, {@code GET /containers/{id}/top}, {@code GET /containers/{id}/stats}</li>
 * <li>{@code GET|HEAD|PUT /containers/{id}/archive}, {@code GET /containers/{id}/export}</li>
 * <li>{@code POST /containers/{id}/wait} (condition not-running or next-exit)</li>
 * <li>{@code GET /containers/{id}/diff} (the writable layer as a layer tar, for builds and commits; not in the
 * Engine API) and {@code GET /containers/{id}/changes} ({@code docker diff})</li>
 * </ul>
 * Errors are Docker's: {@code {"message": ...}} with 400/404/409/500.
 */
public final class DataPlaneApi {
    private static final Logger LOG = Logger.getLogger(DataPlaneApi.class);
    private static final Pattern CONTAINER = Pattern.compile("/containers/([^/]+)/(logs|attach|exec|resize|top|stats|archive|wait|diff|changes|export)");
    private static final Pattern EXEC = Pattern.compile("/exec/([^/]+)/(start|json|resize)");
    /** How long an attach to a created container waits for its start command. */
    private static final long ATTACH_WAIT_MINUTES = 10;

    /** One request on one connection. */
    record Exchange(HttpRequest req, HttpResponse resp, Socket socket, InputStream in, OutputStream out) {
    }

    private final NodeContainers containers;
    private final ContainerRuntime runtime;
    private final Snapshotter snapshotter;
    private final boolean cgroupV2;
    private final Execs execs;

    /**
     * @param cgroupMode the host's cgroup layout ("v1", "v2", "hybrid"), for the memory figures stats reports
     * @param runRoot    the runtime's run root (exec bundles)
     */
    public DataPlaneApi(NodeContainers containers, Snapshotter snapshotter, String cgroupMode, Path runRoot) {
        this.containers = containers;
        this.runtime = containers.runtime();
        this.snapshotter = snapshotter;
        this.cgroupV2 = "v2".equals(cgroupMode);
        this.execs = new Execs(runRoot);
    }

    void handle(Exchange x) throws IOException {
        HttpRequest req = x.req();
        try {
            route(x);
        } catch (RuntimeFailure e) {
            fail(x, e.status(), e.getMessage());
        } catch (HttpRequest.BadRequest | IllegalArgumentException e) {
            fail(x, 400, e.getMessage());
        } catch (SocketException e) {
            throw e;
        } catch (IOException | UncheckedIOException | IllegalStateException e) {
            LOG.warnf("%s %s: %s", req.method, req.path, e.toString());
            fail(x, 500, e.getMessage());
        }
    }

    private static void fail(Exchange x, int status, String message) throws IOException {
        if (x.resp().committed()) {
            x.resp().markClose();
            return;
        }
        x.resp().error(status, message);
    }

    private void route(Exchange x) throws IOException {
        HttpRequest req = x.req();
        String m = req.method;
        if (req.path.equals("/_ping")) {
            x.resp().send(200, "text/plain; charset=utf-8", "OK".getBytes(StandardCharsets.US_ASCII), m.equals("HEAD"));
            return;
        }
        Matcher c = CONTAINER.matcher(req.path);
        if (c.matches()) {
            String id = c.group(1);
            switch (c.group(2) + " " + m) {
                case "logs GET" -> logs(x, id);
                case "attach POST" -> attach(x, id);
                case "exec POST" -> execCreate(x, id);
                case "resize POST" -> {
                    runtime.resize(id, req.intParam("h", 0), req.intParam("w", 0));
                    x.resp().empty(200);
                }
                case "top GET" -> {
                    ContainerRuntime.TopResult top = runtime.top(id);
                    x.resp().json(200, Map.of("Titles", top.titles(), "Processes", top.processes()));
                }
                case "stats GET" -> stats(x, id);
                case "archive GET", "archive HEAD" -> archiveOut(x, id, m.equals("HEAD"));
                case "archive PUT" -> archiveIn(x, id);
                case "wait POST" -> await(x, id);
                case "diff GET" -> diff(x, id);
                case "changes GET" -> changes(x, id);
                case "export GET" -> export(x, id);
                default -> x.resp().error(405, "method " + m + " not allowed on " + req.path);
            }
            return;
        }
        Matcher e = EXEC.matcher(req.path);
        if (e.matches()) {
            Execs.Exec exec = execs.get(e.group(1));
            switch (e.group(2) + " " + m) {
                case "start POST" -> execStart(x, exec);
                case "json GET" -> x.resp().json(200, exec.inspect());
                case "resize POST" -> {
                    execs.resize(exec, req.intParam("h", 0), req.intParam("w", 0));
                    x.resp().empty(200);
                }
                default -> x.resp().error(405, "method " + m + " not allowed on " + req.path);
            }
            return;
        }
        x.resp().error(404, "page not found");
    }

    private boolean tty(String id) {
        ContainerRecord r = containers.record(id);
        return r != null && r.tty();
    }

    // ------------------------------------------------------------------------------------------------ logs

    private void logs(Exchange x, String id) throws IOException {
        HttpRequest req = x.req();
        boolean stdout = req.flag("stdout", false), stderr = req.flag("stderr", false);
        if (!stdout && !stderr) {
            throw RuntimeFailure.badRequest("Bad parameters: you must choose at least one stream");
        }
        boolean timestamps = req.flag("timestamps", false);
        String tailParam = req.param("tail");
        int tail = tailParam == null || tailParam.isEmpty() || tailParam.equals("all") ? -1 : parseTail(tailParam);
        LogOptions opts = new LogOptions(stdout, stderr, time(req.param("since")), time(req.param("until")), tail,
                req.flag("follow", false));
        runtime.state(id); // 404 before the headers go out
        boolean tty = tty(id);
        OutputStream body = x.resp().chunked(200, Map.of());
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        boolean[] gone = {false};
        runtime.logs(id, opts, entry -> {
            try {
                frame.reset();
                byte[] text = ((timestamps ? entry.timestamp() + " " : "") + entry.log()).getBytes(StandardCharsets.UTF_8);
                if (!tty) {
                    frame.write(Frames.header(entry.stream().equals("stderr") ? 2 : 1, text.length));
                }
                frame.write(text);
                body.write(frame.toByteArray());
                return true;
            } catch (IOException e) {
                gone[0] = true;
                return false;
            }
        });
        if (gone[0]) {
            x.resp().markClose();
        } else {
            body.close();
        }
    }

    private static int parseTail(String s) {
        try {
            return Math.max(0, Integer.parseInt(s));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid tail value " + s);
        }
    }

    /** Docker's since/until: Unix seconds with an optional fraction ("1700000000.123456789"), or RFC 3339. */
    static Instant time(String s) {
        if (s == null || s.isEmpty() || s.equals("0")) {
            return null;
        }
        try {
            BigDecimal d = new BigDecimal(s);
            long secs = d.longValue();
            long nanos = d.subtract(BigDecimal.valueOf(secs)).movePointRight(9).longValue();
            return Instant.ofEpochSecond(secs, nanos);
        } catch (NumberFormatException e) {
            try {
                return Instant.parse(s);
            } catch (DateTimeParseException ex) {
                throw new IllegalArgumentException("invalid time value " + s);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ attach

    private void attach(Exchange x, String id) throws IOException {
        HttpRequest req = x.req();
        boolean stdin = req.flag("stdin", false), stdout = req.flag("stdout", false), stderr = req.flag("stderr", false);
        if (!req.flag("stream", false)) {
            throw RuntimeFailure.badRequest("attach without stream=1 is not supported by this node");
        }
        runtime.state(id); // 404 before the hijack
        boolean tty = tty(id);
        req.body.transferTo(OutputStream.nullOutputStream());
        CompletableFuture<AttachStream> f = containers.attachOrAwaitStart(id);
        // The 101 goes out now: the CLI sends start only after it, and half-closes right after it.
        x.resp().hijack(req.wantsUpgrade());
        AttachStream stream;
        try {
            stream = f.get(ATTACH_WAIT_MINUTES, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            containers.cancelAttach(id, f);
            return;
        } catch (ExecutionException | TimeoutException e) {
            containers.cancelAttach(id, f);
            return; // the start failed or never came: the stream ends empty, as Docker's does
        }
        StreamPipe.run(x.socket(), x.in(), x.out(), stream, tty, stdin, stdout || !stdout && !stderr, stderr || !stdout && !stderr);
    }

    // ------------------------------------------------------------------------------------------------ exec

    private void execCreate(Exchange x, String containerId) throws IOException {
        JsonNode body = readJson(x.req());
        List<String> cmd = strings(body.get("Cmd"));
        if (cmd.isEmpty()) {
            throw RuntimeFailure.badRequest("No exec command specified");
        }
        ContainerState st = runtime.state(containerId);
        if (!st.running()) {
            throw RuntimeFailure.conflict("Container " + containerId + " is not running");
        }
        if (st.status() == ContainerState.Status.PAUSED) {
            throw RuntimeFailure.conflict("Container " + containerId + " is paused, unpause the container before exec");
        }
        ExecSpec spec = new ExecSpec(cmd, strings(body.get("Env")), text(body.get("User")), text(body.get("WorkingDir")),
                bool(body.get("Tty")), bool(body.get("AttachStdin")), bool(body.get("Privileged")));
        execs.prune(cid -> runtime.list().stream().anyMatch(c -> c.id().equals(cid)));
        Execs.Exec e = execs.create(containerId, spec, bool(body.get("AttachStdout")), bool(body.get("AttachStderr")));
        x.resp().json(201, Map.of("Id", e.id));
    }

    private void execStart(Exchange x, Execs.Exec exec) throws IOException {
        JsonNode body = readJson(x.req());
        boolean detach = bool(body.get("Detach"));
        synchronized (exec) {
            if (exec.started) {
                throw RuntimeFailure.conflict("Exec " + exec.id + " has already been started");
            }
            exec.started = true;
        }
        ExecProcess p;
        try {
            p = runtime.exec(exec.containerId, exec.spec, !detach);
        } catch (IOException e) {
            exec.exitCode = e instanceof dev.berth.node.runtime.StartFailure sf ? sf.exitCode() : 126;
            throw e;
        }
        exec.process = p;
        exec.running = true;
        if (detach) {
            Thread t = new Thread(() -> finishExec(exec, p), "berth-exec-wait");
            t.setDaemon(true);
            t.start();
            x.resp().empty(200);
            return;
        }
        x.resp().hijack(x.req().wantsUpgrade());
        try {
            StreamPipe.run(x.socket(), x.in(), x.out(), p.stream(), exec.spec.tty(), exec.spec.attachStdin(),
                    exec.attachStdout || !exec.attachStderr, exec.attachStderr || !exec.attachStdout);
        } finally {
            finishExec(exec, p);
        }
    }

    private static void finishExec(Execs.Exec exec, ExecProcess p) {
        try {
            exec.exitCode = p.waitFor();
        } catch (IOException e) {
            exec.exitCode = 126;
        } finally {
            exec.running = false;
        }
    }

    private static JsonNode readJson(HttpRequest req) throws IOException {
        byte[] b = req.body.readAllBytes();
        if (b.length == 0) {
            return Json.mapper().createObjectNode();
        }
        try {
            JsonNode n = Json.mapper().readTree(b);
            return n == null || n.isNull() ? Json.mapper().createObjectNode() : n;
        } catch (IOException e) {
            throw RuntimeFailure.badRequest("invalid JSON body: " + e.getMessage());
        }
    }

    private static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n != null && n.isArray()) {
            n.forEach(v -> out.add(v.asText()));
        } else if (n != null && n.isTextual()) {
            out.add(n.asText());
        }
        return out;
    }

    private static String text(JsonNode n) {
        return n == null || n.isNull() ? null : n.asText();
    }

    /** Booleans as clients send them: true/false, 1/0, "true"/"True"/"1". */
    private static boolean bool(JsonNode n) {
        if (n == null || n.isNull()) {
            return false;
        }
        if (n.isBoolean()) {
            return n.asBoolean();
        }
        if (n.isNumber()) {
            return n.asInt() != 0;
        }
        String s = n.asText();
        return s.equalsIgnoreCase("true") || s.equals("1");
    }

    // ------------------------------------------------------------------------------------------------ stats

    private void stats(Exchange x, String id) throws IOException {
        HttpRequest req = x.req();
        boolean stream = req.flag("stream", true);
        boolean oneShot = req.flag("one-shot", false);
        ContainerState st = runtime.state(id);
        // the control plane names the container (the gateway sets it from its lookup); the node knows ids only
        String given = req.header("X-Berth-Container-Name");
        String name = given != null && given.startsWith("/") ? given : "/" + id;
        if (!st.running()) {
            throw RuntimeFailure.conflict("Container " + id + " is not running");
        }
        StatsSampler.Sample first = StatsSampler.sample(runtime.stats(id), st.pid());
        if (!stream) {
            StatsSampler.Sample pre = null;
            StatsSampler.Sample now = first;
            if (!oneShot) {
                sleep(1000);
                pre = first;
                now = StatsSampler.sample(runtime.stats(id), runtime.state(id).pid());
            }
            x.resp().json(200, StatsSampler.json(id, name, now, pre, cgroupV2));
            return;
        }
        OutputStream body = x.resp().chunked(200, Map.of("Content-Type", "application/json"));
        StatsSampler.Sample pre = null;
        StatsSampler.Sample now = first;
        try {
            while (true) {
                body.write((Json.mapper().writeValueAsString(StatsSampler.json(id, name, now, pre, cgroupV2)) + "\n")
                        .getBytes(StandardCharsets.UTF_8));
                sleep(1000);
                ContainerState s = runtime.state(id);
                if (!s.running()) {
                    break;
                }
                pre = now;
                now = StatsSampler.sample(runtime.stats(id), s.pid());
            }
            body.close();
        } catch (RuntimeFailure e) {
            body.close(); // removed meanwhile
        } catch (IOException e) {
            x.resp().markClose();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------------------------------------ archive

    /** The container's root as seen from here: its process's root while it runs, else the prepared snapshot. */
    private Path rootOf(String id) throws IOException {
        ContainerState st = runtime.state(id);
        if (st.running() && st.pid() > 0) {
            return Path.of("/proc", Integer.toString(st.pid()), "root");
        }
        ContainerRecord r = containers.record(id);
        if (r == null || r.chainId() == null || snapshotter == null) {
            throw new RuntimeFailure(500, "the root filesystem of container " + id + " is not known to this node");
        }
        Snapshotter.RootfsMount m = snapshotter.prepare(id, r.chainId());
        snapshotter.mount(m);
        return m.target();
    }

    private void archiveOut(Exchange x, String id, boolean headOnly) throws IOException {
        String path = x.req().param("path");
        Path root = rootOf(id);
        ContainerFiles.PathStat stat = ContainerFiles.stat(root, id, path);
        String header = Base64.getEncoder().encodeToString(Json.mapper().writeValueAsBytes(stat));
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Type", "application/x-tar");
        h.put("X-Docker-Container-Path-Stat", header);
        if (headOnly) {
            h.put("Content-Length", "0");
            x.resp().head(200, h);
            x.out().flush();
            return;
        }
        OutputStream body = x.resp().chunked(200, h);
        try (OutputStream buffered = new java.io.BufferedOutputStream(new NonClosing(body), 65536)) {
            ContainerFiles.tar(root, id, path, buffered);
        }
        body.close();
    }

    private void archiveIn(Exchange x, String id) throws IOException {
        HttpRequest req = x.req();
        String path = req.param("path");
        ContainerFiles.untar(rootOf(id), id, path, req.body, req.flag("noOverwriteDirNonDir", false),
                req.flag("copyUIDGID", false));
        x.resp().empty(200);
    }

    /**
     * {@code docker export}: the container's whole file system (its image's layers under its writable layer) as an
     * uncompressed tar with names relative to the root. Read from the rootfs mount in the node's own mount namespace,
     * so the running container's /proc, /sys, /dev and bind mounts are not in it, as in Docker's. A container that
     * is not running has its rootfs mounted for this, as for {@code archive}, and kept until it is removed.
     */
    private void export(Exchange x, String id) throws IOException {
        requireSnapshotter(id);
        ContainerRecord r = containers.record(id);
        if (r == null || r.chainId() == null) {
            throw noFilesystem(id);
        }
        Snapshotter.RootfsMount m = snapshotter.prepare(id, r.chainId());
        snapshotter.mount(m);
        OutputStream body = x.resp().chunked(200, Map.of("Content-Type", "application/x-tar"));
        try (OutputStream buffered = new java.io.BufferedOutputStream(new NonClosing(body), 65536)) {
            ContainerFiles.tar(m.target(), id, "/.", buffered);
        }
        body.close();
    }

    /** Lets a buffered stream be closed without ending the chunked body below it. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }

    // ------------------------------------------------------------------------------------------------ diff

    /**
     * The container's writable layer as an uncompressed layer tar. The head goes out with the first bytes of the tar,
     * so a container without a snapshot still gets its 404; if reading fails half-way the connection closes without
     * the last chunk, so a client cannot take a truncated tar for a whole one.
     */
    private void diff(Exchange x, String id) throws IOException {
        requireSnapshotter(id);
        OutputStream lazy = new OutputStream() {
            private OutputStream body;

            @Override
            public void write(int b) throws IOException {
                write(new byte[]{(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (body == null) {
                    body = x.resp().chunked(200, Map.of("Content-Type", "application/x-tar"));
                }
                body.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                if (body != null) {
                    body.close();
                }
            }
        };
        try (OutputStream buffered = new java.io.BufferedOutputStream(lazy, 65536)) {
            snapshotter.exportDiff(id, buffered);
        } catch (java.nio.file.NoSuchFileException e) {
            throw noFilesystem(id);
        }
    }

    private void changes(Exchange x, String id) throws IOException {
        requireSnapshotter(id);
        List<Map<String, Object>> out = new ArrayList<>();
        try {
            for (Snapshotter.Change c : snapshotter.changes(id)) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("Path", c.path());
                m.put("Kind", c.kind().code());
                out.add(m);
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw noFilesystem(id);
        }
        x.resp().json(200, out);
    }

    /** 404 for a container this node does not have, before any header goes out. */
    private void requireSnapshotter(String id) throws IOException {
        runtime.state(id);
        if (snapshotter == null) {
            throw new RuntimeFailure(500, "this node has no snapshotter");
        }
    }

    private static RuntimeFailure noFilesystem(String id) {
        return new RuntimeFailure(404, "container " + id + " has no filesystem on this node");
    }

    // ------------------------------------------------------------------------------------------------ wait

    private void await(Exchange x, String id) throws IOException {
        String condition = x.req().param("condition");
        if (condition == null || condition.isEmpty()) {
            condition = "not-running";
        }
        if (!condition.equals("not-running") && !condition.equals("next-exit")) {
            throw RuntimeFailure.badRequest("invalid condition: \"" + condition + "\" (this node waits for not-running"
                    + " or next-exit; removal is reported by the control plane)");
        }
        ContainerState st = runtime.state(id);
        Instant since = st.finishedAt();
        boolean nextExit = condition.equals("next-exit");
        // Headers go out at once: clients send wait before start and rely on them.
        OutputStream body = x.resp().chunked(200, Map.of("Content-Type", "application/json"));
        while (true) {
            ContainerState s = runtime.waitForExit(id, java.time.Duration.ofSeconds(1));
            boolean exitedSince = s.finishedAt() != null && !s.finishedAt().equals(since);
            if (!s.running() && (!nextExit || exitedSince)) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("Error", s.error() == null ? null : Map.of("Message", s.error()));
                r.put("StatusCode", s.exitCode());
                body.write((Json.mapper().writeValueAsString(r) + "\n").getBytes(StandardCharsets.UTF_8));
                body.close();
                return;
            }
        }
    }
}
