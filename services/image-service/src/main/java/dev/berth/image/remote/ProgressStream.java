package dev.berth.image.remote;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * Docker's JSON message stream (one {@code JSONMessage} per line, {@code \r\n}-terminated, flushed at once) for a
 * pull or a push. A failure after the stream started is reported in it as {@code errorDetail}; the HTTP status stays
 * 200, as dockerd does.
 */
public final class ProgressStream {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] UNITS = {"B", "kB", "MB", "GB", "TB"};
    private final OutputStream out;

    public ProgressStream(OutputStream out) {
        this.out = out;
    }

    /** {@code {"status": ...}}. */
    public void status(String status) {
        ObjectNode m = JSON.createObjectNode();
        m.put("status", status);
        write(m);
    }

    /** {@code {"status": ..., "id": ...}} (the line that opens a pull: {@code id} is the tag). */
    public void status(String status, String id) {
        ObjectNode m = JSON.createObjectNode();
        m.put("status", status);
        m.put("id", id);
        write(m);
    }

    /** {@code {"status": ..., "progressDetail": {}, "id": ...}} (a layer's step; {@code id} its short digest). */
    public void layer(String status, String id) {
        ObjectNode m = JSON.createObjectNode();
        m.put("status", status);
        m.putObject("progressDetail");
        m.put("id", id);
        write(m);
    }

    /** {@code Downloading}/{@code Pushing} with Docker's progress bar. */
    public void progress(String status, String id, long current, long total) {
        ObjectNode m = JSON.createObjectNode();
        m.put("status", status);
        ObjectNode detail = m.putObject("progressDetail");
        detail.put("current", current);
        detail.put("total", total);
        m.put("progress", bar(current, total));
        m.put("id", id);
        write(m);
    }

    /** The {@code aux} message that ends a push of one tag. */
    public void pushed(String tag, String digest, long size) {
        ObjectNode m = JSON.createObjectNode();
        m.putObject("progressDetail");
        ObjectNode aux = m.putObject("aux");
        aux.put("Tag", tag);
        aux.put("Digest", digest);
        aux.put("Size", size);
        write(m);
    }

    /** {@code {"errorDetail": {"message"}, "error"}}: what the CLI prints and exits 1 on. */
    public void error(String message) {
        ObjectNode m = JSON.createObjectNode();
        m.putObject("errorDetail").put("message", message);
        m.put("error", message);
        write(m);
    }

    /** The first 12 hex digits of a digest, Docker's id of a layer in progress messages. */
    public static String shortId(String digest) {
        String hex = digest.startsWith("sha256:") ? digest.substring(7) : digest;
        return hex.substring(0, Math.min(12, hex.length()));
    }

    private void write(ObjectNode m) {
        try {
            out.write(JSON.writeValueAsBytes(m));
            out.write('\r');
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("the client went away", e);
        }
    }

    /** Docker's {@code [====>    ]  1.2MB/3.4MB}. */
    static String bar(long current, long total) {
        int width = 50;
        int done = total <= 0 ? 0 : (int) Math.min(width, current * width / total);
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < width; i++) {
            b.append(i < done ? '=' : i == done ? '>' : ' ');
        }
        return b.append("] ").append(human(current)).append('/').append(human(total)).toString();
    }

    private static String human(long n) {
        double v = n;
        int u = 0;
        while (v >= 1000 && u < UNITS.length - 1) {
            v /= 1000;
            u++;
        }
        return u == 0 ? n + "B" : String.format(java.util.Locale.ROOT, "%.3g%s", v, UNITS[u]);
    }
}
