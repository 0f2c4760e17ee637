package dev.berth.node.runtime;

import java.util.Locale;
import java.util.Map;

/** Signal names as docker kill/stop accept them ("KILL", "SIGKILL", "9"), for Linux x86_64 and aarch64. */
public final class Signals {
    public static final int SIGHUP = 1, SIGINT = 2, SIGKILL = 9, SIGTERM = 15;

    private static final Map<String, Integer> BY_NAME = Map.ofEntries(
            Map.entry("HUP", 1), Map.entry("INT", 2), Map.entry("QUIT", 3), Map.entry("ILL", 4), Map.entry("TRAP", 5),
            Map.entry("ABRT", 6), Map.entry("IOT", 6), Map.entry("BUS", 7), Map.entry("FPE", 8), Map.entry("KILL", 9),
            Map.entry("USR1", 10), Map.entry("SEGV", 11), Map.entry("USR2", 12), Map.entry("PIPE", 13),
            Map.entry("ALRM", 14), Map.entry("TERM", 15), Map.entry("STKFLT", 16), Map.entry("CHLD", 17),
            Map.entry("CONT", 18), Map.entry("STOP", 19), Map.entry("TSTP", 20), Map.entry("TTIN", 21),
            Map.entry("TTOU", 22), Map.entry("URG", 23), Map.entry("XCPU", 24), Map.entry("XFSZ", 25),
            Map.entry("VTALRM", 26), Map.entry("PROF", 27), Map.entry("WINCH", 28), Map.entry("IO", 29),
            Map.entry("POLL", 29), Map.entry("PWR", 30), Map.entry("SYS", 31));

    private Signals() {
    }

    /**
     * The signal number for a name or number; null or "" means {@code dflt}.
     *
     * @throws RuntimeFailure 400 {@code Invalid signal: X} as Docker words it
     */
    public static int parse(String signal, int dflt) throws RuntimeFailure {
        if (signal == null || signal.isBlank()) {
            return dflt;
        }
        String s = signal.trim().toUpperCase(Locale.ROOT);
        if (s.chars().allMatch(Character::isDigit)) {
            int n = Integer.parseInt(s);
            if (n >= 1 && n <= 64) {
                return n;
            }
        } else {
            if (s.startsWith("SIG")) {
                s = s.substring(3);
            }
            Integer n = BY_NAME.get(s);
            if (n != null) {
                return n;
            }
            if (s.startsWith("RTMIN") || s.startsWith("RTMAX")) {
                int base = s.startsWith("RTMIN") ? 34 : 64;
                String off = s.substring(5);
                try {
                    int k = off.isEmpty() ? 0 : Integer.parseInt(off);
                    int v = base + k;
                    if (v >= 34 && v <= 64) {
                        return v;
                    }
                } catch (NumberFormatException e) {
                    // falls through to the error
                }
            }
        }
        throw RuntimeFailure.badRequest("Invalid signal: " + signal);
    }
}
