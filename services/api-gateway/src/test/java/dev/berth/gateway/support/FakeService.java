package dev.berth.gateway.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A stand-in for one of the platform's services, speaking raw HTTP/1.1 on a loopback port so it can do what the
 * real services do on the wire: hijack a connection (101 or a close-delimited raw stream), read a client's
 * half-close, flush response headers long before the body. It records what reached it.
 *
 * <p>As container-service it answers the node lookups {@code GET /_berth/locate/containers/{ref}} and
 * {@code /_berth/locate/exec/{id}} with the node set by {@link #routeTo(int, int)} ({@code missing...}: 404,
 * {@code ambiguous}: 400, {@code down...}: a node that is not listening); as a node it serves logs (followed or not).
 *
 * <p>Paths it knows: {@code GET /containers/json} and {@code GET /images/json} (fixed lists for /info counts),
 * {@code POST /images/load} (digests a streamed body), {@code POST /containers/slow/wait} (headers at once, body
 * when {@link #releaseWait()} is called), {@code POST /containers/{id}/attach} and {@code POST /exec/{id}/start}
 * (hijack); anything else echoes the request as JSON.
 */
public final class FakeService implements AutoCloseable {

    /** One request as the service received it. */
    public record Received(String method, String target, Map<String, String> headers, long bodyLength, String bodySha256,
                           byte[] stdin) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private final String name;
    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-service");
        t.setDaemon(true);
        return t;
    });
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile CountDownLatch waitRelease = new CountDownLatch(1);
    private volatile CountDownLatch firstBodyBytes = new CountDownLatch(1);
    private final CountDownLatch followerGone = new CountDownLatch(1);
    private volatile int nodePort = -1;
    private volatile int deadNodePort = -1;

    public FakeService(String name) throws IOException {
        this.name = name;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Makes this stand-in answer node lookups: the node's data plane, and a port where nothing listens. */
    public void routeTo(int nodePort, int deadNodePort) {
        this.nodePort = nodePort;
        this.deadNodePort = deadNodePort;
    }

    /** The full id the lookup gives for a reference: 64 hex, as container-service would. */
    public static String idOf(String ref) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(ref.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public List<Received> received() {
        return received;
    }

    /** The last request that reached this service with the given path prefix. */
    public Received last(String targetPrefix) {
        for (int i = received.size() - 1; i >= 0; i--) {
            if (received.get(i).target().startsWith(targetPrefix)) {
                return received.get(i);
            }
        }
        return null;
    }

    /** Lets the pending {@code /containers/slow/wait} answers finish their body. */
    public void releaseWait() {
        waitRelease.countDown();
    }

    /** Resets the latches used by the streaming tests. */
    public void resetLatches() {
        waitRelease = new CountDownLatch(1);
        firstBodyBytes = new CountDownLatch(1);
    }

    /** Waits until the first bytes of a streamed {@code /images/load} body have reached this service. */
    public boolean awaitFirstBodyBytes(long seconds) throws InterruptedException {
        return firstBodyBytes.await(seconds, TimeUnit.SECONDS);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                threads.execute(() -> serve(s));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setSoTimeout(60_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            String head = readHead(in);
            if (head == null) {
                return;
            }
            String[] lines = head.split("\r\n");
            String[] requestLine = lines[0].split(" ");
            String method = requestLine[0];
            String target = requestLine[1];
            Map<String, String> headers = new TreeMap<>();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
            String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
            boolean upgrade = "tcp".equalsIgnoreCase(headers.get("upgrade"));

            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            long length = readBody(in, headers, sha);
            String digest = HexFormat.of().formatHex(sha.digest());

            if (path.matches("/containers/[^/]+/attach|/exec/[^/]+/start")) {
                hijack(s, in, out, method, target, headers, length, digest, upgrade);
                return;
            }
            received.add(new Received(method, target, headers, length, digest, new byte[0]));
            if (path.startsWith("/_berth/locate/")) {
                locate(out, path);
                return;
            }
            if (path.matches("/containers/[^/]+/logs")) {
                if (target.contains("follow=1") || target.contains("follow=true")) {
                    follow(in, out);
                } else {
                    logs(out);
                }
                return;
            }
            if (method.equals("HEAD")) {
                out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1234\r\n"
                        + "X-Docker-Container-Path-Stat: e30=\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                return;
            }
            if (path.matches("/containers/live[^/]*/json")) {
                String id = path.split("/")[2];
                json(out, 200, "{\"Id\":\"" + id + "\",\"Name\":\"/" + id + "\",\"State\":{\"Status\":\"running\","
                        + "\"Running\":true},\"Config\":{\"Tty\":false}}");
                return;
            }
            if (path.matches("/containers/live[^/]*/exec")) {
                json(out, 201, "{\"Id\":\"e-" + path.split("/")[2] + "\"}");
                return;
            }
            if (path.matches("/exec/e-live[^/]*/json")) {
                json(out, 200, "{\"ID\":\"" + path.split("/")[2] + "\",\"Running\":false,\"ExitCode\":3,"
                        + "\"ProcessConfig\":{\"tty\":false}}");
                return;
            }
            switch (path) {
                case "/containers/json" -> json(out, 200, "[{\"Id\":\"a\",\"Names\":[\"/a\"],\"State\":\"running\","
                        + "\"ImageID\":\"sha256:1\",\"Mounts\":[{\"Type\":\"volume\",\"Name\":\"data\"}]},"
                        + "{\"Id\":\"b\",\"Names\":[\"/b\"],\"State\":\"paused\",\"ImageID\":\"sha256:1\",\"Mounts\":[]},"
                        + "{\"Id\":\"c\",\"Names\":[\"/c\"],\"State\":\"exited\",\"Mounts\":[]}]");
                case "/images/json" -> json(out, 200, "[{\"Id\":\"sha256:1\",\"RepoTags\":[\"one:1\"],\"Size\":1000,"
                        + "\"SharedSize\":-1,\"Containers\":-1},{\"Id\":\"sha256:2\",\"RepoTags\":[\"two:2\"],\"Size\":2000,"
                        + "\"SharedSize\":-1,\"Containers\":-1}]");
                case "/volumes" -> json(out, 200, "{\"Volumes\":[{\"Name\":\"data\",\"Driver\":\"local\"},"
                        + "{\"Name\":\"unused\",\"Driver\":\"local\"}],\"Warnings\":null}");
                case "/images/load" -> json(out, 200, "{\"Length\":" + length + ",\"Sha256\":\"" + digest + "\"}");
                case "/containers/slow/wait" -> slowWait(out);
                case "/containers/crash/json" -> s.setSoLinger(true, 0);
                case "/containers/follow/logs" -> follow(in, out);
                case "/containers/missing/json" -> json(out, 404, "{\"message\":\"No such container: missing\"}");
                default -> json(out, 200, echo(method, target, headers, length));
            }
        } catch (Exception e) {
            // a test that cares sees the missing answer; the socket is closed either way
        }
    }

    private void hijack(Socket s, InputStream in, OutputStream out, String method, String target, Map<String, String> headers,
                        long length, String digest, boolean upgrade) throws IOException {
        if (upgrade) {
            out.write(("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                    + "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // like a container without a tty waiting for stdin to end: everything until the client's FIN
            byte[] stdin = in.readAllBytes();
            received.add(new Received(method, target, headers, length, digest, stdin));
            out.write(frame(1, "hello from " + name + "\n"));
            out.write(frame(2, "stdin was: " + new String(stdin, StandardCharsets.UTF_8) + "\n"));
            out.flush();
        } else {
            // docker-java's exec start: 200, no length, no chunking; the end of the body is the end of the connection
            received.add(new Received(method, target, headers, length, digest, new byte[0]));
            out.write("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(frame(1, "exec-out\n"));
            out.write(frame(2, "exec-err\n"));
            out.flush();
        }
        s.close();
    }

    /** A stdcopy frame: stream id, three zero bytes, big-endian length, payload. */
    public static byte[] frame(int stream, String payload) {
        byte[] p = payload.getBytes(StandardCharsets.UTF_8);
        byte[] f = new byte[8 + p.length];
        f[0] = (byte) stream;
        f[4] = (byte) (p.length >>> 24);
        f[5] = (byte) (p.length >>> 16);
        f[6] = (byte) (p.length >>> 8);
        f[7] = (byte) p.length;
        System.arraycopy(p, 0, f, 8, p.length);
        return f;
    }

    private void locate(OutputStream out, String path) throws IOException {
        boolean exec = path.startsWith("/_berth/locate/exec/");
        String ref = java.net.URLDecoder.decode(path.substring(path.lastIndexOf('/') + 1), StandardCharsets.UTF_8);
        if (ref.startsWith("missing")) {
            json(out, 404, "{\"message\":\"" + (exec ? "No such exec instance: " : "No such container: ") + ref + "\"}");
        } else if (ref.equals("ambiguous")) {
            json(out, 400, "{\"message\":\"multiple IDs found with provided prefix: ambiguous\"}");
        } else {
            int port = ref.startsWith("down") ? deadNodePort : nodePort;
            json(out, 200, "{\"Id\":\"" + idOf(exec ? "exec-of-" + ref : ref) + "\",\"Node\":\"node-1\",\"Address\":\"127.0.0.1:"
                    + port + "\",\"State\":\"running\"}");
        }
    }

    /** `docker logs` without follow: two entries, then the end. */
    private static void logs(OutputStream out) throws IOException {
        out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        for (byte[] f : new byte[][] {frame(1, "line one\n"), frame(2, "line two\n")}) {
            out.write((Integer.toHexString(f.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(f);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private void slowWait(OutputStream out) throws IOException, InterruptedException {
        out.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        if (!waitRelease.await(60, TimeUnit.SECONDS)) {
            return;
        }
        byte[] body = "{\"Error\":null,\"StatusCode\":0}\n".getBytes(StandardCharsets.US_ASCII);
        out.write((Integer.toHexString(body.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.write("\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** Like `logs --follow` of a quiet container: headers, one frame, then nothing until the reader goes away. */
    private void follow(InputStream in, OutputStream out) throws IOException {
        out.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        byte[] f = frame(1, "ready\n");
        out.write((Integer.toHexString(f.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(f);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        if (in.read() < 0) {
            followerGone.countDown();
        }
    }

    /** Waits until a {@code /containers/follow/logs} connection has been closed by the gateway. */
    public boolean awaitFollowerGone(long seconds) throws InterruptedException {
        return followerGone.await(seconds, TimeUnit.SECONDS);
    }

    private String echo(String method, String target, Map<String, String> headers, long length) {
        StringBuilder h = new StringBuilder("{");
        headers.forEach((k, v) -> h.append(h.length() > 1 ? "," : "").append('"').append(k).append("\":\"")
                .append(v.replace("\\", "\\\\").replace("\"", "\\\"")).append('"'));
        h.append('}');
        return "{\"Service\":\"" + name + "\",\"Method\":\"" + method + "\",\"Target\":\"" + target.replace("\"", "\\\"")
                + "\",\"BodyLength\":" + length + ",\"Headers\":" + h + "}";
    }

    private static void json(OutputStream out, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\nContent-Length: " + b.length
                + "\r\nConnection: close\r\nServer: fake\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(b);
        out.flush();
    }

    private long readBody(InputStream in, Map<String, String> headers, MessageDigest sha) throws IOException {
        long total = 0;
        byte[] buf = new byte[65536];
        if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
            while (true) {
                String sizeLine = readLine(in);
                int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
                if (size == 0) {
                    while (!readLine(in).isEmpty()) {
                        // trailers
                    }
                    return total;
                }
                int left = size;
                while (left > 0) {
                    int n = in.read(buf, 0, Math.min(left, buf.length));
                    if (n < 0) {
                        throw new IOException("body cut short");
                    }
                    sha.update(buf, 0, n);
                    left -= n;
                    total += n;
                    firstBodyBytes.countDown();
                }
                readLine(in);
            }
        }
        long left = Long.parseLong(headers.getOrDefault("content-length", "0"));
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(left, buf.length));
            if (n < 0) {
                throw new IOException("body cut short");
            }
            sha.update(buf, 0, n);
            left -= n;
            total += n;
            firstBodyBytes.countDown();
        }
        return total;
    }

    static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        int c;
        while ((c = in.read()) >= 0) {
            head.write(c);
            state = (c == '\r' && (state == 0 || state == 2)) || (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
            if (state == 4) {
                String s = head.toString(StandardCharsets.ISO_8859_1);
                return s.substring(0, s.length() - 4);
            }
        }
        return null;
    }

    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                break;
            }
            if (c != '\r') {
                line.write(c);
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    public String name() {
        return name;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
        threads.shutdownNow();
    }
}
