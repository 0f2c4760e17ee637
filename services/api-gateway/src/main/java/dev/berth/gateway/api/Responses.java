package dev.berth.gateway.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.Map;

/**
 * Builds the gateway's own responses, all carrying the headers every Docker daemon response carries.
 */
public final class Responses {

    private final ObjectMapper json;
    private final String serverHeader;

    public Responses(ObjectMapper json, String serverHeader) {
        this.json = json;
        this.serverHeader = serverHeader;
    }

    /** Api-Version, Ostype, Docker-Experimental, Server and Date, replacing whatever a service sent. */
    public void standardHeaders(HttpHeaders headers) {
        headers.set(Headers.API_VERSION, ApiVersion.MAX.toString());
        headers.set(Headers.OSTYPE, "linux");
        headers.set(Headers.DOCKER_EXPERIMENTAL, "false");
        headers.set("Server", serverHeader);
        headers.set("Date", DateFormatter.format(new Date()));
    }

    /** A Docker error: {@code {"message":"..."}} as application/json. */
    public FullHttpResponse error(HttpResponseStatus status, String message) {
        return json(status, Map.of("message", message));
    }

    /** A JSON body, newline-terminated as Go's json.Encoder writes it. */
    public FullHttpResponse json(HttpResponseStatus status, Object body) {
        byte[] bytes;
        try {
            bytes = json.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            bytes = "{\"message\":\"cannot encode the response\"}".getBytes(StandardCharsets.UTF_8);
            status = HttpResponseStatus.INTERNAL_SERVER_ERROR;
        }
        ByteBuf content = Unpooled.buffer(bytes.length + 1).writeBytes(bytes).writeByte('\n');
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers().set("Content-Type", "application/json");
        response.headers().setInt("Content-Length", content.readableBytes());
        standardHeaders(response.headers());
        return response;
    }

    /** A body passed on as it came (another component's error answer), with the standard headers. */
    public FullHttpResponse passThrough(HttpResponseStatus status, String contentType, byte[] body) {
        ByteBuf content = Unpooled.wrappedBuffer(body);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers().set("Content-Type", contentType);
        response.headers().setInt("Content-Length", body.length);
        standardHeaders(response.headers());
        return response;
    }

    /** The answer to /_ping: "OK" for GET, an empty body for HEAD, never cached. */
    public FullHttpResponse ping(boolean head) {
        ByteBuf content = head ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer("OK", StandardCharsets.US_ASCII);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, content);
        HttpHeaders h = response.headers();
        standardHeaders(h);
        h.set("Cache-Control", "no-cache, no-store, must-revalidate");
        h.set("Pragma", "no-cache");
        h.set("Content-Type", "text/plain; charset=utf-8");
        h.setInt("Content-Length", head ? 0 : 2);
        return response;
    }
}
