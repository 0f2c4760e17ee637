package dev.berth.container.domain;

import dev.berth.events.DomainException;

import java.util.Locale;
import java.util.Set;

/** Signal names as Docker's {@code kill --signal} and {@code stop --signal} accept them (moby pkg/signal). */
public final class Signals {

    private static final Set<String> NAMES = Set.of("ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL",
            "INT", "IO", "IOT", "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM",
            "TRAP", "TSTP", "TTIN", "TTOU", "UNUSED", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ");

    private Signals() {
    }

    /**
     * Checks a signal: a number 1..64, a name with or without {@code SIG}, or {@code RTMIN+n}/{@code RTMAX-n}. Null or
     * empty means the default.
     *
     * @throws DomainException 400 {@code Invalid signal: x}
     */
    public static void validate(String signal) {
        if (signal == null || signal.isEmpty()) {
            return;
        }
        if (signal.matches("\\d+")) {
            long n = Long.parseLong(signal.length() > 3 ? "999" : signal);
            if (n >= 1 && n <= 64) {
                return;
            }
            throw DomainException.badRequest("Invalid signal: " + signal);
        }
        String name = signal.toUpperCase(Locale.ROOT);
        name = name.startsWith("SIG") ? name.substring(3) : name;
        if (NAMES.contains(name) || name.matches("RTMIN(\\+([1-9]|1[0-5]))?|RTMAX(-([1-9]|1[0-4]))?")) {
            return;
        }
        throw DomainException.badRequest("Invalid signal: " + signal);
    }

    /** Whether the signal is SIGKILL (null and empty mean SIGKILL for kill). */
    public static boolean isKill(String signal) {
        if (signal == null || signal.isEmpty()) {
            return true;
        }
        String name = signal.toUpperCase(Locale.ROOT);
        return name.equals("9") || name.equals("KILL") || name.equals("SIGKILL");
    }
}
