package dev.berth.node.runtime;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * One json-file log entry: a line of output (with its newline, if it had one) and when the shim read it.
 *
 * @param stream "stdout" or "stderr"
 */
public record LogEntry(String stream, Instant time, String log) {
    private static final DateTimeFormatter FIXED = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.nnnnnnnnn'Z'")
            .withZone(ZoneOffset.UTC);

    /** The time as {@code docker logs -t} prints it (RFC3339 with 9 fraction digits). */
    public String timestamp() {
        return FIXED.format(time);
    }
}
