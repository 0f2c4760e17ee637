package dev.berth.container.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A {@code POST /containers/{id}/wait} on a plain socket, as the docker CLI uses it: the status line and headers are
 * read first (they must come at once, before the container even starts), the body later.
 */
final class RawWait implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final String head;

    RawWait(int port, String tenant, String ref, String condition) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(60_000);
        String request = "POST /containers/" + ref + "/wait" + (condition == null ? "" : "?condition=" + condition)
                + " HTTP/1.1\r\nHost: localhost\r\nX-Berth-Tenant: " + tenant + "\r\nContent-Length: 0\r\n\r\n";
        socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        in = socket.getInputStream();
        ByteArrayOutputStream h = new ByteArrayOutputStream();
        while (!h.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            h.write(b);
        }
        head = h.toString(StandardCharsets.US_ASCII);
    }

    /** The status line and headers, as received before anything else happened. */
    String head() {
        return head;
    }

    /** The body's JSON (the chunk framing removed), once the server sent it. */
    String body() throws IOException {
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
        if (length.find()) {
            return new String(in.readNBytes(Integer.parseInt(length.group(1))), StandardCharsets.UTF_8);
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (!b.toString(StandardCharsets.UTF_8).contains("}\n")) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            b.write(c);
        }
        String raw = b.toString(StandardCharsets.UTF_8);
        int brace = raw.indexOf('{');
        return brace < 0 ? raw : raw.substring(brace, raw.lastIndexOf('}') + 1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
