package dev.berth.node.api;

import dev.berth.events.Json;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Writes responses on a connection: fixed-length, chunked, close-delimited, or the 101 of a hijack. */
final class HttpResponse {
    private final OutputStream out;
    private boolean committed;
    private boolean closeAfter;

    HttpResponse(OutputStream out) {
        this.out = out;
    }

    static String reason(int status) {
        return switch (status) {
            case 101 -> "UPGRADED";
            case 200 -> "OK";
            case 201 -> "Created";
            case 204 -> "No Content";
            case 304 -> "Not Modified";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 409 -> "Conflict";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            default -> "Status";
        };
    }

    boolean committed() {
        return committed;
    }

    /** Whether the connection must close after this response. */
    boolean closeAfter() {
        return closeAfter;
    }

    void head(int status, Map<String, String> headers) throws IOException {
        StringBuilder sb = new StringBuilder("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
        sb.append("Server: berth-node\r\n");
        headers.forEach((k, v) -> sb.append(k).append(": ").append(v).append("\r\n"));
        sb.append("\r\n");
        out.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
        committed = true;
    }

    void send(int status, String contentType, byte[] body, boolean headOnly) throws IOException {
        Map<String, String> h = new LinkedHashMap<>();
        if (contentType != null) {
            h.put("Content-Type", contentType);
        }
        h.put("Content-Length", Integer.toString(body.length));
        head(status, h);
        if (!headOnly) {
            out.write(body);
        }
        out.flush();
    }

    void json(int status, Object value) throws IOException {
        send(status, "application/json", (Json.mapper().writeValueAsString(value) + "\n").getBytes(StandardCharsets.UTF_8), false);
    }

    void error(int status, String message) throws IOException {
        json(status, Map.of("message", message == null ? "error" : message));
    }

    void empty(int status) throws IOException {
        Map<String, String> h = new LinkedHashMap<>();
        if (status != 204 && status != 304) {
            h.put("Content-Length", "0");
        }
        head(status, h);
        out.flush();
    }

    /** Starts a chunked response; the returned stream writes (and flushes) one chunk per write. */
    OutputStream chunked(int status, Map<String, String> headers) throws IOException {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put("Transfer-Encoding", "chunked");
        head(status, h);
        out.flush();
        return new OutputStream() {
            private boolean closed;

            @Override
            public void write(int b) throws IOException {
                write(new byte[]{(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return;
                }
                out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.write(b, off, len);
                out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            }

            @Override
            public void close() throws IOException {
                if (!closed) {
                    closed = true;
                    out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                }
            }
        };
    }

    /**
     * The head of a hijacked stream: {@code 101 UPGRADED} when the client asked for the upgrade, else a 200 whose body
     * ends when the connection closes. The connection closes after it either way.
     */
    void hijack(boolean upgrade) throws IOException {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Type", "application/vnd.docker.raw-stream");
        if (upgrade) {
            h.put("Connection", "Upgrade");
            h.put("Upgrade", "tcp");
            head(101, h);
        } else {
            head(200, h);
        }
        out.flush();
        closeAfter = true;
    }

    /** A close-delimited body follows (no length, no chunking). */
    OutputStream closeDelimited(int status, Map<String, String> headers) throws IOException {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put("Connection", "close");
        head(status, h);
        closeAfter = true;
        return out;
    }

    void markClose() {
        closeAfter = true;
    }
}
