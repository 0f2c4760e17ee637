package dev.berth.container.domain;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;

/** Docker's human status line and timestamps, as {@code docker ps} prints them (moby container/state.go). */
public final class Status {

    /** Go's zero time, what Docker reports for a container that never started or never finished. */
    public static final String NEVER = "0001-01-01T00:00:00Z";

    // Go's RFC3339Nano: up to nine fraction digits, trailing zeros dropped.
    private static final DateTimeFormatter RFC3339_NANO = new DateTimeFormatterBuilder()
            .appendPattern("uuuu-MM-dd'T'HH:mm:ss")
            .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
            .appendLiteral('Z')
            .toFormatter().withZone(ZoneOffset.UTC);

    private Status() {
    }

    /** An instant as Docker writes it; null gives Go's zero time. */
    public static String rfc3339(Instant t) {
        return t == null ? NEVER : RFC3339_NANO.format(t);
    }

    /** The instant of a Docker timestamp; Go's zero time gives null. */
    public static Instant parse(String t) {
        return t == null || t.isEmpty() || NEVER.equals(t) ? null : Instant.parse(t);
    }

    /**
     * The {@code Status} column: {@code Up 3 seconds}, {@code Up 2 minutes (Paused)}, {@code Restarting (1) 2 seconds
     * ago}, {@code Exited (0) 5 seconds ago}, {@code Created}.
     *
     * @param state Docker's state name
     */
    public static String of(String state, int exitCode, String startedAt, String finishedAt, Instant now) {
        Instant started = parse(startedAt);
        Instant finished = parse(finishedAt);
        return switch (state) {
            case "running" -> "Up " + humanDuration(since(started, now));
            case "paused" -> "Up " + humanDuration(since(started, now)) + " (Paused)";
            case "restarting" -> "Restarting (" + exitCode + ") " + humanDuration(since(finished, now)) + " ago";
            case "dead" -> "Dead";
            case "removing" -> "Removal In Progress";
            default -> started == null ? "Created"
                    : finished == null ? "" : "Exited (" + exitCode + ") " + humanDuration(since(finished, now)) + " ago";
        };
    }

    private static Duration since(Instant t, Instant now) {
        return t == null ? Duration.ZERO : Duration.between(t, now);
    }

    /** Go's {@code units.HumanDuration} (docker/go-units), word for word. */
    public static String humanDuration(Duration d) {
        long seconds = d.getSeconds();
        if (seconds < 1) {
            return "Less than a second";
        }
        if (seconds == 1) {
            return "1 second";
        }
        if (seconds < 60) {
            return seconds + " seconds";
        }
        long minutes = d.toMinutes();
        if (minutes == 1) {
            return "About a minute";
        }
        if (minutes < 60) {
            return minutes + " minutes";
        }
        long hours = Math.round(d.toNanos() / 3_600_000_000_000.0);
        if (hours == 1) {
            return "About an hour";
        }
        if (hours < 48) {
            return hours + " hours";
        }
        if (hours < 24 * 7 * 2) {
            return hours / 24 + " days";
        }
        if (hours < 24 * 30 * 2) {
            return hours / 24 / 7 + " weeks";
        }
        if (hours < 24 * 365 * 2) {
            return hours / 24 / 30 + " months";
        }
        return d.toHours() / 24 / 365 + " years";
    }
}
