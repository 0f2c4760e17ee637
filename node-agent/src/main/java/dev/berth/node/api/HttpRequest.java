package dev.berth.node.api;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One HTTP/1.1 request read from a connection: the head, and its body as a stream bounded by Content-Length or
 * decoded from chunked encoding. Bytes after the body (stdin of a hijacked request) stay in the connection's stream.
 */
final class HttpRequest {
    private static final int MAX_HEAD = 64 * 1024;

    final String method;
    final String path;
    final Map<String, String> query;
    final Map<String, String> headers;
    final InputStream body;

    private HttpRequest(String method, String path, Map<String, String> query, Map<String, String> headers,
                        InputStream body) {
        this.method = method;
        this.path = path;
        this.query = query;
        this.headers = headers;
        this.body = body;
    }

    /** Reads the next request; null at a clean end of the connection. */
    static HttpRequest read(InputStream in) throws IOException {
        String requestLine = line(in, true);
        if (requestLine == null) {
            return null;
        }
        while (requestLine.isEmpty()) {
            requestLine = line(in, true);
            if (requestLine == null) {
                return null;
            }
        }
        String[] parts = requestLine.split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
            throw new BadRequest("malformed request line: " + requestLine);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        int total = requestLine.length();
        for (String h; !(h = line(in, false)).isEmpty(); ) {
            total += h.length();
            if (total > MAX_HEAD) {
                throw new BadRequest("request head too large");
            }
            int colon = h.indexOf(':');
            if (colon <= 0) {
                throw new BadRequest("malformed header: " + h);
            }
            headers.merge(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim(),
                    (a, b) -> a + ", " + b);
        }
        String target = parts[1];
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        Map<String, String> query = new LinkedHashMap<>();
        if (q >= 0) {
            for (String kv : target.substring(q + 1).split("&")) {
                if (kv.isEmpty()) {
                    continue;
                }
                int eq = kv.indexOf('=');
                String k = decode(eq < 0 ? kv : kv.substring(0, eq));
                String v = eq < 0 ? "" : decode(kv.substring(eq + 1));
                query.putIfAbsent(k, v);
            }
        }
        path = decode(path).replaceFirst("^/v[0-9]+(\\.[0-9]+)?(?=/)", "");
        InputStream body;
        String te = headers.getOrDefault("transfer-encoding", "");
        if (te.toLowerCase(Locale.ROOT).contains("chunked")) {
            body = new ChunkedInputStream(in);
        } else if (headers.containsKey("content-length")) {
            long len;
            try {
                len = Long.parseLong(headers.get("content-length"));
            } catch (NumberFormatException e) {
                throw new BadRequest("invalid Content-Length");
            }
            body = new BoundedInputStream(in, len);
        } else {
            body = InputStream.nullInputStream();
        }
        return new HttpRequest(parts[0], path, query, headers, body);
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new BadRequest("malformed URL encoding: " + s);
        }
    }

    private static String line(InputStream in, boolean eofOk) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                byte[] a = b.toByteArray();
                int n = a.length > 0 && a[a.length - 1] == '\r' ? a.length - 1 : a.length;
                return new String(a, 0, n, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
            if (b.size() > MAX_HEAD) {
                throw new BadRequest("request line too long");
            }
        }
        if (eofOk && b.size() == 0) {
            return null;
        }
        throw new EOFException("connection closed inside a request head");
    }

    String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    String param(String name) {
        return query.get(name);
    }

    /** A boolean query parameter as Go's ParseBool reads it (1, t, T, TRUE, true, True...). */
    boolean flag(String name, boolean dflt) {
        String v = query.get(name);
        if (v == null || v.isEmpty()) {
            return dflt;
        }
        return switch (v) {
            case "1", "t", "T", "true", "TRUE", "True" -> true;
            case "0", "f", "F", "false", "FALSE", "False" -> false;
            default -> throw new BadRequest("invalid boolean value for " + name + ": " + v);
        };
    }

    int intParam(String name, int dflt) {
        String v = query.get(name);
        if (v == null || v.isEmpty()) {
            return dflt;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new BadRequest("invalid value for " + name + ": " + v);
        }
    }

    /** Whether the client asks to take over the connection ({@code Upgrade: tcp}). */
    boolean wantsUpgrade() {
        String up = header("upgrade");
        String conn = header("connection");
        return up != null && conn != null && conn.toLowerCase(Locale.ROOT).contains("upgrade");
    }

    /** The client's request is malformed: 400 with this message. */
    static final class BadRequest extends RuntimeException {
        BadRequest(String message) {
            super(message);
        }
    }

    static final class BoundedInputStream extends InputStream {
        private final InputStream in;
        private long left;

        BoundedInputStream(InputStream in, long left) {
            this.in = in;
            this.left = left;
        }

        @Override
        public int read() throws IOException {
            byte[] b = new byte[1];
            return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new EOFException("connection closed inside a request body");
            }
            left -= n;
            return n;
        }
    }

    static final class ChunkedInputStream extends InputStream {
        private final InputStream in;
        private long left;
        private boolean done;

        ChunkedInputStream(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] b = new byte[1];
            return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (left == 0) {
                String size = line(in, false);
                int semi = size.indexOf(';');
                try {
                    left = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                } catch (NumberFormatException e) {
                    throw new BadRequest("malformed chunk size: " + size);
                }
                if (left == 0) {
                    while (!line(in, false).isEmpty()) {
                        // trailers
                    }
                    done = true;
                    return -1;
                }
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new EOFException("connection closed inside a chunk");
            }
            left -= n;
            if (left == 0) {
                line(in, false);
            }
            return n;
        }
    }
}
