package dev.berth.node.messaging;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The command ids this node has handled (and answered), one per line in a file under the state root, so a
 * redelivered command is recognised even after a restart. Only the newest {@code capacity} ids are kept: Kafka
 * redelivers what was not committed, which is always recent.
 */
public final class ProcessedCommands implements AutoCloseable {
    private final Path file;
    private final int capacity;
    private final LinkedHashSet<String> ids = new LinkedHashSet<>();
    private FileChannel channel;

    /** @throws IOException naming the file when it cannot be read or opened */
    public ProcessedCommands(Path file, int capacity) throws IOException {
        this.file = file;
        this.capacity = capacity;
        Files.createDirectories(file.getParent());
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    ids.add(line.trim());
                }
            }
        }
        channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        trim();
    }

    public synchronized boolean contains(String commandId) {
        return ids.contains(commandId);
    }

    /** Records a handled command durably (fsynced). */
    public synchronized void add(String commandId) throws IOException {
        if (!ids.add(commandId)) {
            return;
        }
        ByteBuffer buf = ByteBuffer.wrap((commandId + "\n").getBytes(StandardCharsets.UTF_8));
        try {
            while (buf.hasRemaining()) {
                channel.write(buf);
            }
            channel.force(false);
        } catch (IOException e) {
            ids.remove(commandId);
            throw new IOException("cannot record command " + commandId + " in " + file + ": " + e.getMessage(), e);
        }
        if (ids.size() > 2 * capacity) {
            trim();
        }
    }

    private void trim() throws IOException {
        if (ids.size() <= capacity) {
            return;
        }
        List<String> keep = new ArrayList<>(ids).subList(ids.size() - capacity, ids.size());
        Set<String> kept = new LinkedHashSet<>(keep);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, kept, StandardCharsets.UTF_8);
        channel.close();
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        ids.clear();
        ids.addAll(kept);
    }

    @Override
    public synchronized void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // every add was forced
        }
    }
}
