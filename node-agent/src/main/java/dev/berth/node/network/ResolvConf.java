package dev.berth.node.network;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The /etc/resolv.conf a container gets, derived from the host's as Docker derives it. */
final class ResolvConf {
    static final List<String> DEFAULT_NAMESERVERS = List.of("8.8.8.8", "8.8.4.4");
    /** Where systemd-resolved keeps the real upstream servers when /etc/resolv.conf points at its stub. */
    static final Path SYSTEMD_RESOLVED_UPSTREAM = Path.of("/run/systemd/resolve/resolv.conf");

    private ResolvConf() {
    }

    /** The host's file as it is (host network mode); empty when the host has none. */
    static String host(Path hostFile) throws IOException {
        try {
            return Files.readString(hostFile, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return "";
        }
    }

    /**
     * For a container in its own network namespace: the host's file without the nameservers it cannot reach from
     * there (loopback ones, and IPv6 ones since containers get no IPv6 address); Google's public servers when none
     * is left, as Docker does. A host using the systemd-resolved stub (127.0.0.53) gives its upstream file instead.
     */
    static String forContainer(Path hostFile) throws IOException {
        String content = host(hostFile);
        List<String> servers = nameservers(content);
        if (!servers.isEmpty() && servers.stream().allMatch(s -> s.equals("127.0.0.53"))
                && Files.isReadable(SYSTEMD_RESOLVED_UPSTREAM)) {
            content = host(SYSTEMD_RESOLVED_UPSTREAM);
        }
        List<String> kept = new ArrayList<>();
        boolean anyServer = false;
        for (String line : content.lines().toList()) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && f[0].equals("nameserver")) {
                if (isLoopback(f[1]) || f[1].contains(":")) {
                    continue;
                }
                anyServer = true;
            }
            kept.add(line);
        }
        StringBuilder sb = new StringBuilder();
        for (String line : kept) {
            sb.append(line).append('\n');
        }
        if (!anyServer) {
            for (String s : DEFAULT_NAMESERVERS) {
                sb.append("nameserver ").append(s).append('\n');
            }
        }
        return sb.toString();
    }

    static List<String> nameservers(String content) {
        List<String> servers = new ArrayList<>();
        for (String line : content.lines().toList()) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && f[0].equals("nameserver")) {
                servers.add(f[1]);
            }
        }
        return servers;
    }

    private static boolean isLoopback(String address) {
        return address.startsWith("127.") || address.equals("::1");
    }
}
