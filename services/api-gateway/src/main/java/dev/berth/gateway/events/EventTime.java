package dev.berth.gateway.events;

import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code since} and {@code until} parameters of {@code GET /events}, read as Docker reads them: Unix seconds
 * with an optional fraction (what the docker CLI sends), RFC 3339 times (with or without zone; without one the
 * gateway's local zone, as dockerd does), a date alone, or a Go duration counted back from now ({@code 10m},
 * {@code 1h30m}, {@code -5s} reaches into the future).
 */
public final class EventTime {

    private static final Pattern UNIX = Pattern.compile("^(\\d+)(?:\\.(\\d{0,9})\\d*)?$");
    private static final Pattern GO_DURATION = Pattern.compile("^[-+]?((\\d+\\.?\\d*|\\.\\d+)(ns|us|µs|ms|s|m|h))+$");
    private static final Pattern GO_DURATION_PART = Pattern.compile("(\\d+\\.?\\d*|\\.\\d+)(ns|us|µs|ms|s|m|h)");

    private EventTime() {
    }

    /** A value that is no time Docker would accept. */
    public static final class Invalid extends IllegalArgumentException {
        Invalid(String value) {
            super("failed to parse value as time or duration: \"" + value + "\"");
        }
    }

    /**
     * @param value the parameter (null or empty: not given)
     * @param now   the reference for durations
     * @param zone  the zone of times written without one
     * @return the instant, or null when not given
     * @throws Invalid when the value is none of the accepted forms
     */
    public static Instant parse(String value, Instant now, ZoneId zone) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        Matcher unix = UNIX.matcher(value);
        if (unix.matches()) {
            // Go's ParseDuration accepts "0" alone; Docker takes it as the Unix epoch, and so does this
            long seconds;
            try {
                seconds = Long.parseLong(unix.group(1));
            } catch (NumberFormatException e) {
                throw new Invalid(value);
            }
            String fraction = unix.group(2) == null ? "" : unix.group(2);
            long nanos = fraction.isEmpty() ? 0 : Long.parseLong((fraction + "000000000").substring(0, 9));
            return Instant.ofEpochSecond(seconds, nanos);
        }
        if (GO_DURATION.matcher(value).matches()) {
            return now.minus(duration(value));
        }
        try {
            if (value.contains("T")) {
                if (hasZone(value)) {
                    return OffsetDateTime.parse(value).toInstant();
                }
                String local = value.length() == 13 ? value + ":00" : value;
                return LocalDateTime.parse(local).atZone(zone).toInstant();
            }
            if (value.length() == 10) {
                return LocalDate.parse(value).atStartOfDay(zone).toInstant();
            }
        } catch (DateTimeException e) {
            throw new Invalid(value);
        }
        throw new Invalid(value);
    }

    private static boolean hasZone(String value) {
        int t = value.indexOf('T');
        String clock = value.substring(t + 1);
        return clock.endsWith("Z") || clock.endsWith("z") || clock.contains("+") || clock.contains("-");
    }

    private static Duration duration(String value) {
        boolean negative = value.startsWith("-");
        Matcher m = GO_DURATION_PART.matcher(value);
        BigDecimal nanos = BigDecimal.ZERO;
        while (m.find()) {
            BigDecimal amount = new BigDecimal(m.group(1).endsWith(".") ? m.group(1) + "0" : m.group(1));
            long unit = switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                default -> 3_600_000_000_000L;
            };
            nanos = nanos.add(amount.multiply(BigDecimal.valueOf(unit)));
        }
        Duration d = Duration.ofNanos(nanos.longValue());
        return negative ? d.negated() : d;
    }
}
