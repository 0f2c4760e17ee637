package dev.berth.node.api;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HttpParsingTest {
    private static InputStream wire(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void versionPrefixQueryAndGoBooleans() throws Exception {
        HttpRequest r = HttpRequest.read(wire("DELETE /v1.44/containers/abc/logs?v=True&link=False&force=1&x=%2Fetc HTTP/1.1\r\n"
                + "Host: x\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n"));
        assertThat(r.path).isEqualTo("/containers/abc/logs");
        assertThat(r.flag("v", false)).isTrue();
        assertThat(r.flag("link", true)).isFalse();
        assertThat(r.flag("force", false)).isTrue();
        assertThat(r.flag("missing", true)).isTrue();
        assertThat(r.param("x")).isEqualTo("/etc");
        assertThat(r.wantsUpgrade()).isTrue();
        assertThatThrownBy(() -> HttpRequest.read(wire("GET /x?a=maybe HTTP/1.1\r\n\r\n")).flag("a", false))
                .hasMessageContaining("invalid boolean");
    }

    @Test
    void chunkedAndLengthBodiesEndWhereTheyShouldLeavingStdinBehind() throws Exception {
        InputStream in = wire("PUT /containers/a/archive?path=/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n"
                + "POST /exec/e/start HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}stdin-bytes");
        HttpRequest put = HttpRequest.read(in);
        assertThat(new String(put.body.readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("abcde");
        HttpRequest post = HttpRequest.read(in);
        assertThat(new String(post.body.readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("{}");
        assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("stdin-bytes");
    }

    @Test
    void malformedRequestsAreBadRequests() {
        assertThatThrownBy(() -> HttpRequest.read(wire("NONSENSE\r\n\r\n"))).isInstanceOf(HttpRequest.BadRequest.class);
        assertThatThrownBy(() -> HttpRequest.read(wire("GET / HTTP/1.1\r\nno-colon\r\n\r\n")))
                .isInstanceOf(HttpRequest.BadRequest.class);
    }

    @Test
    void logTimesAsDockerSendsThem() {
        assertThat(DataPlaneApi.time("1700000000")).isEqualTo(Instant.ofEpochSecond(1_700_000_000L));
        assertThat(DataPlaneApi.time("1700000000.000000123")).isEqualTo(Instant.ofEpochSecond(1_700_000_000L, 123));
        assertThat(DataPlaneApi.time("2026-01-01T00:00:00Z")).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
        assertThat(DataPlaneApi.time("0")).isNull();
        assertThat(DataPlaneApi.time(null)).isNull();
        assertThatThrownBy(() -> DataPlaneApi.time("yesterday")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void goFileModes() {
        assertThat(ContainerFiles.goMode(0040755)).isEqualTo((1L << 31) | 0755);
        assertThat(ContainerFiles.goMode(0120777)).isEqualTo((1L << 27) | 0777);
        assertThat(ContainerFiles.goMode(0104755)).isEqualTo((1L << 23) | 0755);
        assertThat(ContainerFiles.goMode(0100644)).isEqualTo(0644);
    }
}
