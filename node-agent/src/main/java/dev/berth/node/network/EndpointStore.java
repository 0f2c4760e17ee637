package dev.berth.node.network;

import dev.berth.node.network.NodeNetwork.PortBinding;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * What each attached container holds on this node (mode, namespace, address, veth, host ports), one small file per
 * container, written before the first resource is made so that an interrupted attach can always be undone and an
 * agent restart finds every allocation again.
 */
final class EndpointStore {

    /** One container's network as recorded. {@code address} is -1 and {@code veth} null outside bridge mode. */
    record Endpoint(String containerId, String mode, Path netnsPath, long address, int prefixLength, long gateway,
                    String bridge, String veth, List<PortBinding> ports) {
    }

    private final Path dir;

    EndpointStore(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    private Path file(String containerId) {
        return dir.resolve(containerId + ".endpoint");
    }

    boolean exists(String containerId) {
        return Files.exists(file(containerId));
    }

    void write(Endpoint e) throws IOException {
        Files.createDirectories(dir);
        Properties p = new Properties();
        p.setProperty("containerId", e.containerId());
        p.setProperty("mode", e.mode());
        if (e.netnsPath() != null) {
            p.setProperty("netns", e.netnsPath().toString());
        }
        if (e.address() >= 0) {
            p.setProperty("address", Subnet.format(e.address()));
            p.setProperty("prefixLength", Integer.toString(e.prefixLength()));
            p.setProperty("gateway", Subnet.format(e.gateway()));
        }
        if (e.bridge() != null) {
            p.setProperty("bridge", e.bridge());
        }
        if (e.veth() != null) {
            p.setProperty("veth", e.veth());
        }
        List<String> ports = new ArrayList<>();
        for (PortBinding b : e.ports()) {
            ports.add(b.protocol() + "/" + b.hostIp() + "/" + b.hostPort() + "/" + b.containerPort());
        }
        p.setProperty("ports", String.join(",", ports));
        Path tmp = dir.resolve("." + e.containerId() + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
            p.store(w, null);
        }
        try {
            Files.move(tmp, file(e.containerId()), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException ex) {
            Files.move(tmp, file(e.containerId()), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The recorded endpoint, or null. */
    Endpoint read(String containerId) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file(containerId), StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (NoSuchFileException e) {
            return null;
        }
        try {
            String netns = p.getProperty("netns");
            String address = p.getProperty("address");
            List<PortBinding> ports = new ArrayList<>();
            String portList = p.getProperty("ports", "");
            if (!portList.isEmpty()) {
                for (String s : portList.split(",")) {
                    String[] f = s.split("/");
                    ports.add(new PortBinding(f[1], Integer.parseInt(f[2]), Integer.parseInt(f[3]), f[0]));
                }
            }
            return new Endpoint(p.getProperty("containerId", containerId), p.getProperty("mode"),
                    netns == null ? null : Path.of(netns),
                    address == null ? -1 : Subnet.parseAddress(address),
                    address == null ? 0 : Integer.parseInt(p.getProperty("prefixLength")),
                    address == null ? -1 : Subnet.parseAddress(p.getProperty("gateway")),
                    p.getProperty("bridge"), p.getProperty("veth"), List.copyOf(ports));
        } catch (RuntimeException e) {
            throw new IOException("corrupt endpoint record " + file(containerId) + ": " + e.getMessage(), e);
        }
    }

    void delete(String containerId) throws IOException {
        Files.deleteIfExists(file(containerId));
    }

    /** Every recorded endpoint. */
    List<Endpoint> all() throws IOException {
        List<Endpoint> list = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return list;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.endpoint")) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                Endpoint e = read(name.substring(0, name.length() - ".endpoint".length()));
                if (e != null) {
                    list.add(e);
                }
            }
        }
        return list;
    }
}
