package dev.berth.node.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * Reads a container's log in Docker's json-file format, written by berth-shim: {@code <id>-json.log} and the rotated
 * {@code .1} (newest) to {@code .N-1}. Following polls the live file (the shim may rotate it underneath: an open
 * descriptor keeps the old file readable to its end).
 */
final class JsonFileLog {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long POLL_MILLIS = 50;

    private JsonFileLog() {
    }

    /**
     * Passes the selected entries, oldest first, to {@code sink} until it returns false, or the end (with follow: until
     * {@code running} turns false and the file has been read to its end).
     */
    static void read(Path log, int maxFiles, LogOptions opts, BooleanSupplier running, Predicate<LogEntry> sink)
            throws IOException {
        List<Path> rotated = new ArrayList<>();
        for (int i = maxFiles - 1; i >= 1; i--) {
            Path p = log.resolveSibling(log.getFileName() + "." + i);
            if (Files.exists(p)) {
                rotated.add(p);
            }
        }
        Deque<LogEntry> tail = new ArrayDeque<>();
        Predicate<LogEntry> collect = e -> {
            if (!selected(e, opts)) {
                return true;
            }
            if (opts.tail() >= 0) {
                tail.addLast(e);
                if (tail.size() > opts.tail()) {
                    tail.removeFirst();
                }
                return true;
            }
            return sink.test(e);
        };
        for (Path p : rotated) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                if (!drain(ch, new ByteArrayOutputStream(), collect, false)) {
                    return;
                }
            } catch (NoSuchFileException e) {
                // rotated away while we read: its entries are gone, as with Docker
            }
        }
        Object liveKey = fileKey(log);
        FileChannel live = openOrNull(log);
        ByteArrayOutputStream partial = new ByteArrayOutputStream();
        try {
            if (live != null && !drain(live, partial, collect, false)) {
                return;
            }
            while (!tail.isEmpty()) {
                if (!sink.test(tail.removeFirst())) {
                    return;
                }
            }
            if (!opts.follow()) {
                return;
            }
            Predicate<LogEntry> direct = e -> !selected(e, opts) || sink.test(e);
            while (true) {
                boolean wasRunning = running.getAsBoolean();
                if (live != null && !drain(live, partial, direct, true)) {
                    return;
                }
                Object nowKey = fileKey(log);
                if (live == null || (nowKey != null && !nowKey.equals(liveKey))) {
                    if (live != null) {
                        drain(live, partial, direct, true);
                        live.close();
                        partial.reset();
                    }
                    liveKey = nowKey;
                    live = openOrNull(log);
                    if (live == null && !wasRunning) {
                        return;
                    }
                    if (live == null) {
                        sleep();
                    }
                    continue;
                }
                if (live.size() < live.position()) {
                    live.position(0); // truncated in place (max-file=1)
                    partial.reset();
                    continue;
                }
                if (!wasRunning) {
                    return;
                }
                if (!sleep()) {
                    return;
                }
            }
        } finally {
            if (live != null) {
                live.close();
            }
        }
    }

    private static boolean sleep() {
        try {
            Thread.sleep(POLL_MILLIS);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static FileChannel openOrNull(Path log) throws IOException {
        try {
            return FileChannel.open(log, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static Object fileKey(Path p) {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean selected(LogEntry e, LogOptions o) {
        boolean stream = e.stream().equals("stderr") ? o.stderr() : o.stdout();
        return stream && (o.since() == null || !e.time().isBefore(o.since()))
                && (o.until() == null || e.time().isBefore(o.until()));
    }

    /** Reads complete lines from the channel's position on; returns false when the sink wants no more. */
    private static boolean drain(FileChannel ch, ByteArrayOutputStream partial, Predicate<LogEntry> sink, boolean keepPartial)
            throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(65536);
        while (ch.read(buf) > 0) {
            buf.flip();
            while (buf.hasRemaining()) {
                byte b = buf.get();
                if (b != '\n') {
                    partial.write(b);
                    continue;
                }
                LogEntry e = parse(partial.toByteArray());
                partial.reset();
                if (e != null && !sink.test(e)) {
                    return false;
                }
            }
            buf.clear();
        }
        if (!keepPartial) {
            partial.reset();
        }
        return true;
    }

    private static LogEntry parse(byte[] line) {
        try {
            JsonNode n = JSON.readTree(new String(line, StandardCharsets.UTF_8));
            return new LogEntry(n.path("stream").asText("stdout"), Instant.parse(n.path("time").asText()),
                    n.path("log").asText(""));
        } catch (IOException | RuntimeException e) {
            return null; // a line cut short by a crash is skipped, as Docker does
        }
    }
}
