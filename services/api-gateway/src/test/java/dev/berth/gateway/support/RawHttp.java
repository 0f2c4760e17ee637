package dev.berth.gateway.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A client connection to the gateway that writes HTTP/1.1 by hand, so tests control and see every byte: header
 * case, chunk boundaries, what arrives when, half-closes.
 */
public final class RawHttp implements AutoCloseable {

    /** A response head as received. Header names are lower-cased; the original spelling is in {@link #rawHead}. */
    public record Head(int status, String reason, Map<String, String> headers, String rawHead) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** A whole response. */
    public record Response(Head head, byte[] body) {
        public int status() {
            return head.status();
        }

        public String header(String name) {
            return head.header(name);
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RawHttp(int port) throws IOException {
        socket = new Socket(InetAddress.getLoopbackAddress(), port);
        // a guard against a test hanging forever, not a claim about speed
        socket.setSoTimeout(30_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** One request on a fresh connection. */
    public static Response call(int port, String method, String path, String... headerLines) throws IOException {
        try (RawHttp c = new RawHttp(port)) {
            c.send(method, path, headerLines);
            return c.response(method.equals("HEAD"));
        }
    }

    public void send(String method, String path, String... headerLines) throws IOException {
        send(method, path, null, headerLines);
    }

    public void send(String method, String path, byte[] body, String... headerLines) throws IOException {
        StringBuilder req = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (String h : headerLines) {
            req.append(h).append("\r\n");
        }
        if (body != null) {
            req.append("Content-Length: ").append(body.length).append("\r\n");
        }
        req.append("\r\n");
        out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (body != null) {
            out.write(body);
        }
        out.flush();
    }

    public void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public void writeChunk(byte[] data, int off, int len) throws IOException {
        out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(data, off, len);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    public void endChunks() throws IOException {
        write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    /** TCP half-close: FIN to the gateway, reading goes on. */
    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    public Head head() throws IOException {
        String raw = FakeService.readHead(in);
        if (raw == null) {
            throw new IOException("connection closed before a response");
        }
        String[] lines = raw.split("\r\n");
        String[] status = lines[0].split(" ", 3);
        Map<String, String> headers = new TreeMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
        }
        return new Head(Integer.parseInt(status[1]), status.length > 2 ? status[2] : "", headers, raw);
    }

    public Response response(boolean headRequest) throws IOException {
        Head head = head();
        if (headRequest || head.status() == 204 || head.status() == 304 || head.status() < 200) {
            return new Response(head, new byte[0]);
        }
        if ("chunked".equalsIgnoreCase(head.header("Transfer-Encoding"))) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            byte[] chunk;
            while ((chunk = chunk()) != null) {
                body.writeBytes(chunk);
            }
            return new Response(head, body.toByteArray());
        }
        String length = head.header("Content-Length");
        if (length != null) {
            return new Response(head, in.readNBytes(Integer.parseInt(length)));
        }
        return new Response(head, in.readAllBytes());
    }

    /** The next chunk of a chunked body, or null after the last. */
    public byte[] chunk() throws IOException {
        String sizeLine = FakeService.readLine(in);
        int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
        if (size == 0) {
            while (!FakeService.readLine(in).isEmpty()) {
                // trailers
            }
            return null;
        }
        byte[] data = in.readNBytes(size);
        FakeService.readLine(in);
        return data;
    }

    /** Everything until the gateway closes the connection. */
    public byte[] readToEnd() throws IOException {
        return in.readAllBytes();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
