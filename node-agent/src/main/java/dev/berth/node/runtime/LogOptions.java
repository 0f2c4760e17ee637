package dev.berth.node.runtime;

import java.time.Instant;

/**
 * What {@code GET /containers/{id}/logs} asks for.
 *
 * @param since  entries at or after this time, or null
 * @param until  entries before this time, or null
 * @param tail   the last n entries (of those selected), or -1 for all
 * @param follow keep reading new entries until the container stops (or the consumer returns false)
 */
public record LogOptions(boolean stdout, boolean stderr, Instant since, Instant until, int tail, boolean follow) {
    public static final LogOptions ALL = new LogOptions(true, true, null, null, -1, false);

    public LogOptions withFollow(boolean f) {
        return new LogOptions(stdout, stderr, since, until, tail, f);
    }

    public LogOptions withTail(int t) {
        return new LogOptions(stdout, stderr, since, until, t, follow);
    }

    public LogOptions withStreams(boolean out, boolean err) {
        return new LogOptions(out, err, since, until, tail, follow);
    }

    public LogOptions withSince(Instant s) {
        return new LogOptions(stdout, stderr, s, until, tail, follow);
    }
}
