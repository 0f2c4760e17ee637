package dev.berth.node.network;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Shell helpers for the network tests: commands, processes started by PID, HTTP from the host. */
final class NetTestSupport {
    private final List<Process> processes = new ArrayList<>();

    /** Runs a command; returns stdout; fails on a non-zero exit. */
    static String sh(String... command) throws IOException, InterruptedException {
        Result r = exec(command);
        if (r.exit != 0) {
            throw new IOException(String.join(" ", command) + " -> exit " + r.exit + ": " + r.err + r.out);
        }
        return r.out;
    }

    record Result(int exit, String out, String err) {
    }

    static Result exec(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).start();
        p.getOutputStream().close();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread t = new Thread(() -> {
            try (InputStream in = p.getErrorStream()) {
                in.transferTo(err);
            } catch (IOException ignored) {
                // the process is gone
            }
        });
        t.start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
        }
        t.join();
        return new Result(p.exitValue(), out, err.toString(StandardCharsets.UTF_8));
    }

    /** Starts a long-running process; {@link #stopAll()} kills it by its PID. */
    Process start(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        processes.add(p);
        return p;
    }

    void stopAll() throws InterruptedException {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        processes.clear();
    }

    static String randomId() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            sb.append(String.format("%016x", ThreadLocalRandom.current().nextLong()));
        }
        return sb.toString();
    }

    /** GET over plain HTTP without any proxy; returns the body, or throws. */
    static String httpGet(String host, int port, String path) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL("http://" + host + ":" + port + path).openConnection(Proxy.NO_PROXY);
        c.setConnectTimeout(2000);
        c.setReadTimeout(2000);
        try {
            if (c.getResponseCode() != 200) {
                throw new IOException("HTTP " + c.getResponseCode());
            }
            try (InputStream in = c.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } finally {
            c.disconnect();
        }
    }

    /** A document root with index.html holding {@code body}. */
    static Path webRoot(Path parent, String body) throws IOException {
        Path dir = Files.createTempDirectory(parent, "www");
        Files.writeString(dir.resolve("index.html"), body);
        return dir;
    }

    /** The host's address on the interface of its default route (its "primary" address). */
    static String hostPrimaryAddress() throws IOException, InterruptedException {
        String iface = null;
        List<String> routes = Files.readAllLines(Path.of("/proc/net/route"));
        for (String line : routes.subList(1, routes.size())) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 7 && f[1].equals("00000000") && f[7].equals("00000000")) {
                iface = f[0];
                break;
            }
        }
        if (iface == null) {
            throw new IOException("the host has no default route");
        }
        for (String line : sh("ip", "-4", "-o", "addr", "show", "dev", iface).lines().toList()) {
            String[] f = line.trim().split("\\s+");
            for (int i = 0; i + 1 < f.length; i++) {
                if (f[i].equals("inet")) {
                    return f[i + 1].split("/")[0];
                }
            }
        }
        throw new IOException("no IPv4 address on " + iface);
    }

    /** Names of the host's links (ip -o link). */
    static List<String> links() throws IOException, InterruptedException {
        List<String> names = new ArrayList<>();
        for (String line : sh("ip", "-o", "link", "show").lines().toList()) {
            String name = line.split(":\\s+")[1];
            int at = name.indexOf('@');
            names.add(at < 0 ? name : name.substring(0, at));
        }
        return names;
    }

    /** The links attached to a bridge. */
    static List<String> bridgePorts(String bridge) throws IOException, InterruptedException {
        List<String> names = new ArrayList<>();
        Result r = exec("ip", "-o", "link", "show", "master", bridge);
        for (String line : r.out().lines().toList()) {
            String name = line.split(":\\s+")[1];
            int at = name.indexOf('@');
            names.add(at < 0 ? name : name.substring(0, at));
        }
        return names;
    }

    static String iptablesSave(String iptablesBinary) throws IOException, InterruptedException {
        return sh(iptablesBinary + "-save");
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    static void write(Path file, String content, boolean executable) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
        if (executable) {
            file.toFile().setExecutable(true, false);
        }
    }

}
