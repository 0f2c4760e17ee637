package dev.berth.node.runtime;

import java.util.List;
import java.util.Locale;

/** Linux capability names and Docker's default set, as bit masks (bit n = capability n). */
public final class Capabilities {
    /** Index = capability number (linux/capability.h). */
    static final List<String> NAMES = List.of("CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
            "SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN",
            "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
            "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE",
            "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
            "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE");

    /** Docker's 14 default capabilities (moby oci/caps/defaults.go): 0xa80425fb. */
    public static final List<String> DOCKER_DEFAULTS = List.of("CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD",
            "NET_RAW", "SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE");

    private Capabilities() {
    }

    /**
     * Every capability a container can get here: those the kernel knows that are also in the agent's own bounding
     * set (a host may withhold some from root, e.g. CAP_SYS_RESOURCE; asking for them would fail capset).
     */
    public static long all() {
        return known() & ownBoundingSet();
    }

    private static long ownBoundingSet() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("CapBnd:")) {
                    return Long.parseUnsignedLong(line.substring(7).trim(), 16);
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            // fall back to what the kernel knows
        }
        return -1L;
    }

    private static long known() {
        int last = NAMES.size() - 1;
        // A stream, not Files.readString: proc files report size 0 and readString returned only the first byte.
        try (java.io.InputStream in = new java.io.FileInputStream("/proc/sys/kernel/cap_last_cap")) {
            last = Integer.parseInt(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim());
        } catch (java.io.IOException | NumberFormatException e) {
            // an older kernel without the file: the names we know
        }
        return last >= 63 ? -1L : (1L << (last + 1)) - 1;
    }

    /**
     * Docker's rules: privileged gets all; otherwise the defaults, minus cap-drop, plus cap-add; "ALL" in cap-drop
     * starts from nothing, "ALL" in cap-add gives everything. Names with or without "CAP_", any case.
     *
     * @throws RuntimeFailure 400 for an unknown name, worded as Docker's
     */
    public static long compute(List<String> capAdd, List<String> capDrop, boolean privileged) throws RuntimeFailure {
        long all = all();
        if (privileged) {
            return all;
        }
        long mask = 0;
        for (String c : DOCKER_DEFAULTS) {
            mask |= bit(c);
        }
        for (String c : capDrop) {
            mask &= isAll(c) ? 0 : ~bit(checked(c, "CapDrop"));
        }
        for (String c : capAdd) {
            mask |= isAll(c) ? all : bit(checked(c, "CapAdd"));
        }
        return mask & all;
    }

    private static boolean isAll(String c) {
        return c.equalsIgnoreCase("ALL");
    }

    private static String checked(String c, String field) throws RuntimeFailure {
        String n = normalize(c);
        if (!NAMES.contains(n)) {
            throw RuntimeFailure.badRequest("invalid " + field + ": unknown capability: \"" + c + "\"");
        }
        return n;
    }

    private static String normalize(String c) {
        String u = c.trim().toUpperCase(Locale.ROOT);
        return u.startsWith("CAP_") ? u.substring(4) : u;
    }

    private static long bit(String name) {
        return 1L << NAMES.indexOf(normalize(name));
    }
}
