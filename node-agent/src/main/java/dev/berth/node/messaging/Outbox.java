package dev.berth.node.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.events.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent's on-disk outbox: observations are appended (and fsynced) here before anything is sent, so none is lost
 * when Kafka or the agent is down. One JSON object per line: a record ({@code seq, topic, key, headers, value}) or an
 * acknowledgement ({@code ack}: every record up to that sequence is on Kafka). When everything is acknowledged the
 * file is cut back to a single ack line, which also carries the sequence counter across restarts.
 *
 * <p>A torn last line (the agent died while writing it) is ignored at load: the record it held was never reported as
 * durable, so its command is redelivered and answered again.
 */
public final class Outbox implements AutoCloseable {

    /** One record to send: topic, key, CloudEvents headers (as strings) and the JSON value. */
    public record Entry(long seq, String topic, String key, Map<String, String> headers, String value) {
    }

    /** A record before it has a sequence number. */
    public record Draft(String topic, String key, Map<String, String> headers, String value) {
    }

    /** Replaced by the record's outbox sequence: the agent's own increasing number for its observations. */
    static final String SEQUENCE_HEADER = "ce_sequence";

    private final Path file;
    private final List<Entry> pending = new ArrayList<>();
    private FileChannel channel;
    private long lastSeq;
    private long ackedSeq;
    private long linesInFile;

    /**
     * Opens (creating if needed) the outbox file and loads the records not yet acknowledged.
     *
     * @throws IOException naming the file if it cannot be read or opened for appending
     */
    public Outbox(Path file) throws IOException {
        this.file = file;
        Files.createDirectories(file.getParent());
        if (Files.exists(file)) {
            load();
        }
        channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        if (ackedSeq == lastSeq && linesInFile > 1) {
            compact();
        }
    }

    private void load() throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        List<Entry> all = new ArrayList<>();
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n;
            try {
                n = Json.mapper().readTree(line);
            } catch (JsonProcessingException e) {
                continue; // torn write at the end
            }
            linesInFile++;
            if (n.has("ack")) {
                ackedSeq = Math.max(ackedSeq, n.get("ack").asLong());
                lastSeq = Math.max(lastSeq, ackedSeq);
                continue;
            }
            Map<String, String> headers = new LinkedHashMap<>();
            n.path("headers").fields().forEachRemaining(e -> headers.put(e.getKey(), e.getValue().asText()));
            Entry e = new Entry(n.get("seq").asLong(), n.get("topic").asText(), n.get("key").asText(), headers,
                    n.get("value").asText());
            lastSeq = Math.max(lastSeq, e.seq());
            all.add(e);
        }
        for (Entry e : all) {
            if (e.seq() > ackedSeq) {
                pending.add(e);
            }
        }
    }

    /**
     * Appends records durably (written and fsynced before this returns), in order, and returns them with their
     * sequence numbers.
     *
     * @throws IOException naming the file when it cannot be written: nothing of the batch counts as appended
     */
    public synchronized List<Entry> append(List<Draft> drafts) throws IOException {
        List<Entry> made = new ArrayList<>();
        StringBuilder out = new StringBuilder();
        long seq = lastSeq;
        for (Draft d : drafts) {
            Map<String, String> headers = new LinkedHashMap<>(d.headers());
            ++seq;
            if (headers.containsKey(SEQUENCE_HEADER)) {
                headers.put(SEQUENCE_HEADER, Long.toString(seq));
            }
            Entry e = new Entry(seq, d.topic(), d.key(), headers, d.value());
            ObjectNode n = Json.mapper().createObjectNode();
            n.put("seq", e.seq()).put("topic", e.topic()).put("key", e.key());
            ObjectNode h = n.putObject("headers");
            e.headers().forEach(h::put);
            n.put("value", e.value());
            out.append(n).append('\n');
            made.add(e);
        }
        long size = channel.size();
        try {
            write(out.toString());
            channel.force(false);
        } catch (IOException ex) {
            try {
                channel.truncate(size);
            } catch (IOException ignored) {
                // the torn tail is skipped at load
            }
            throw new IOException("cannot append to the outbox " + file + ": " + ex.getMessage(), ex);
        }
        lastSeq = seq;
        linesInFile += made.size();
        pending.addAll(made);
        notifyAll();
        return made;
    }

    private void write(String text) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
    }

    /** Up to {@code max} records not yet acknowledged, oldest first. */
    public synchronized List<Entry> pending(int max) {
        return List.copyOf(pending.subList(0, Math.min(max, pending.size())));
    }

    /** Number of records not yet acknowledged. */
    public synchronized int pendingCount() {
        return pending.size();
    }

    /** Waits up to {@code millis} for a record to be pending; returns whether one is. */
    public synchronized boolean awaitPending(long millis) throws InterruptedException {
        if (pending.isEmpty() && millis > 0) {
            wait(millis);
        }
        return !pending.isEmpty();
    }

    /**
     * Marks every record up to {@code seq} as sent; the file is cut back once nothing is pending.
     *
     * @throws IOException naming the file if the acknowledgement cannot be written (the records are then sent again
     *                     after a restart, which consumers tolerate)
     */
    public synchronized void acknowledge(long seq) throws IOException {
        if (seq <= ackedSeq) {
            return;
        }
        ackedSeq = seq;
        pending.removeIf(e -> e.seq() <= seq);
        if (pending.isEmpty()) {
            compact();
        } else {
            write("{\"ack\":" + seq + "}\n");
            linesInFile++;
        }
    }

    /** Rewrites the file with the pending records only (atomically, by rename). */
    private void compact() throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        StringBuilder out = new StringBuilder("{\"ack\":" + ackedSeq + "}\n");
        for (Entry e : pending) {
            ObjectNode n = Json.mapper().createObjectNode();
            n.put("seq", e.seq()).put("topic", e.topic()).put("key", e.key());
            ObjectNode h = n.putObject("headers");
            e.headers().forEach(h::put);
            n.put("value", e.value());
            out.append(n).append('\n');
        }
        try (FileChannel t = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(out.toString().getBytes(StandardCharsets.UTF_8));
            while (buf.hasRemaining()) {
                t.write(buf);
            }
            t.force(false);
        }
        if (channel != null) {
            channel.close();
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        linesInFile = 1 + pending.size();
    }

    /** The highest sequence number handed out so far. */
    public synchronized long lastSequence() {
        return lastSeq;
    }

    @Override
    public synchronized void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing buffered: every append was forced
        }
    }
}
