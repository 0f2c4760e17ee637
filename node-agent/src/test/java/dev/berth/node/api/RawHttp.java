package dev.berth.node.api;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A bare HTTP/1.1 client over a real socket, as the docker CLI and docker-java speak to a daemon. */
final class RawHttp implements AutoCloseable {
    final Socket socket;
    final InputStream in;
    final OutputStream out;

    /** A response head and, unless it was kept open for streaming, its body. */
    record Response(int status, Map<String, String> headers, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** One stdcopy frame. */
    record Frame(int stream, String text) {
    }

    RawHttp(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(60_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    void send(String method, String target, Map<String, String> headers, byte[] body) throws IOException {
        StringBuilder sb = new StringBuilder(method + " " + target + " HTTP/1.1\r\nHost: node\r\n");
        headers.forEach((k, v) -> sb.append(k).append(": ").append(v).append("\r\n"));
        if (body != null) {
            sb.append("Content-Length: ").append(body.length).append("\r\n");
        }
        sb.append("\r\n");
        out.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (body != null) {
            out.write(body);
        }
        out.flush();
    }

    /** Reads a response head. */
    Response head() throws IOException {
        String status = line();
        Map<String, String> h = new LinkedHashMap<>();
        for (String l; !(l = line()).isEmpty(); ) {
            int c = l.indexOf(':');
            h.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
        }
        return new Response(Integer.parseInt(status.split(" ")[1]), h, new byte[0]);
    }

    /** Reads a whole response: by Content-Length, chunked, or until the server closes. */
    Response response() throws IOException {
        return rest(head());
    }

    /** Reads the body that follows a head already read. */
    Response rest(Response r) throws IOException {
        byte[] body;
        if (r.header("content-length") != null) {
            body = new DataInputStream(in).readNBytes(Integer.parseInt(r.header("content-length")));
        } else if ("chunked".equalsIgnoreCase(r.header("transfer-encoding"))) {
            body = chunked();
        } else if (r.status() == 204 || r.status() == 304) {
            body = new byte[0];
        } else {
            body = in.readAllBytes();
        }
        return new Response(r.status(), r.headers(), body);
    }

    Response request(String method, String target, Map<String, String> headers, byte[] body) throws IOException {
        send(method, target, headers, body);
        return response();
    }

    private byte[] chunked() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (true) {
            int n = Integer.parseInt(line().trim(), 16);
            if (n == 0) {
                line();
                return b.toByteArray();
            }
            b.write(new DataInputStream(in).readNBytes(n));
            line();
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) != '\n'; ) {
            if (c < 0) {
                throw new EOFException("connection closed");
            }
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    /** Splits a stdcopy stream into frames (fails on anything that is not framed). */
    static List<Frame> frames(byte[] raw) throws IOException {
        List<Frame> out = new ArrayList<>();
        DataInputStream d = new DataInputStream(new java.io.ByteArrayInputStream(raw));
        while (d.available() > 0) {
            int stream = d.readUnsignedByte();
            if (stream < 0 || stream > 3 || d.readUnsignedByte() != 0 || d.readUnsignedByte() != 0
                    || d.readUnsignedByte() != 0) {
                throw new IOException("not a stdcopy frame header");
            }
            int len = d.readInt();
            out.add(new Frame(stream, new String(d.readNBytes(len), StandardCharsets.UTF_8)));
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
