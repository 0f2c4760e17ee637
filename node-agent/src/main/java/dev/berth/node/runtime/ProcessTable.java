package dev.berth.node.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** {@code docker top}'s default table ({@code ps -ef} columns), read from /proc of the host. */
final class ProcessTable {
    static final List<String> TITLES = List.of("UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD");
    private static final long CLOCK_TICKS = 100; // USER_HZ, fixed at 100 for userspace on Linux

    private ProcessTable() {
    }

    /** Processes in the PID namespace of {@code pid} (for containers without a cgroup). */
    static List<Integer> sameNamespace(int pid) throws IOException {
        Path ns = Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/pid"));
        List<Integer> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    if (Files.readSymbolicLink(p.resolve("ns/pid")).equals(ns)) {
                        out.add(Integer.parseInt(name));
                    }
                } catch (IOException e) {
                    // exited meanwhile
                }
            }
        }
        return out;
    }

    static ContainerRuntime.TopResult top(List<Integer> pids) throws IOException {
        long bootTime = bootTime();
        Map<Integer, String> users = hostUsers();
        List<List<String>> rows = new ArrayList<>();
        for (int pid : pids.stream().sorted().toList()) {
            try {
                String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                int ppid = Integer.parseInt(f[1]);
                int ttyNr = Integer.parseInt(f[4]);
                long utime = Long.parseLong(f[11]), stime = Long.parseLong(f[12]);
                long start = Long.parseLong(f[19]);
                int uid = realUid(pid);
                String startText = DateTimeFormatter.ofPattern("HH:mm").withZone(ZoneId.systemDefault())
                        .format(Instant.ofEpochSecond(bootTime + start / CLOCK_TICKS));
                long cpu = (utime + stime) / CLOCK_TICKS;
                String time = String.format("%02d:%02d:%02d", cpu / 3600, (cpu / 60) % 60, cpu % 60);
                rows.add(List.of(users.getOrDefault(uid, Integer.toString(uid)), Integer.toString(pid),
                        Integer.toString(ppid), "0", startText, tty(ttyNr), time, cmdline(pid, stat)));
            } catch (NoSuchFileException e) {
                // exited between the listing and now
            }
        }
        return new ContainerRuntime.TopResult(TITLES, rows);
    }

    private static String tty(int ttyNr) {
        if (ttyNr == 0) {
            return "?";
        }
        int major = (ttyNr >> 8) & 0xfff, minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
        return major >= 136 && major <= 143 ? "pts/" + ((major - 136) * 256 + minor) : "?";
    }

    private static String cmdline(int pid, String stat) throws IOException {
        byte[] raw = Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"));
        if (raw.length == 0) {
            return "[" + stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')) + "]";
        }
        int len = raw[raw.length - 1] == 0 ? raw.length - 1 : raw.length;
        return new String(raw, 0, len, StandardCharsets.UTF_8).replace('\0', ' ');
    }

    private static int realUid(int pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("Uid:")) {
                return (int) Long.parseLong(line.substring(4).trim().split("\\s+")[0]);
            }
        }
        return -1;
    }

    private static long bootTime() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
            if (line.startsWith("btime ")) {
                return Long.parseLong(line.substring(6).trim());
            }
        }
        return 0;
    }

    /** Docker runs ps on the host, so names are the host's. */
    private static Map<Integer, String> hostUsers() {
        Map<Integer, String> m = new HashMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/etc/passwd"))) {
                String[] f = line.split(":");
                if (f.length > 2) {
                    try {
                        m.putIfAbsent(Integer.parseInt(f[2]), f[0]);
                    } catch (NumberFormatException e) {
                        // skip
                    }
                }
            }
        } catch (IOException e) {
            // numbers only
        }
        return m;
    }
}
