package dev.berth.image.remote;

import dev.berth.events.DomainException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** How names, credentials and challenges are read, without a registry. */
class RemoteReferenceTest {

    private static final String DIGEST = "sha256:" + "ab".repeat(32);

    @Test
    void namesResolveToRegistriesAsDockerResolvesThem() {
        RemoteReference hub = RemoteReference.parse("busybox", "");
        assertThat(hub).isEqualTo(new RemoteReference("docker.io", "library/busybox", "latest", null));
        assertThat(hub.endpoint()).isEqualTo("registry-1.docker.io");
        assertThat(hub.familiar()).isEqualTo("busybox:latest");
        assertThat(hub.fullName()).isEqualTo("docker.io/library/busybox");

        assertThat(RemoteReference.parse("docker.io/library/alpine:3", null).familiar()).isEqualTo("alpine:3");
        assertThat(RemoteReference.parse("foo/bar", "1").path()).isEqualTo("foo/bar");

        RemoteReference local = RemoteReference.parse("127.0.0.1:5000/team/app", "v2");
        assertThat(local.endpoint()).isEqualTo("127.0.0.1:5000");
        assertThat(local.path()).isEqualTo("team/app");
        assertThat(local.localReference().familiar()).isEqualTo("127.0.0.1:5000/team/app:v2");

        RemoteReference byDigest = RemoteReference.parse("localhost:5000/app", DIGEST);
        assertThat(byDigest.digest()).isEqualTo(DIGEST);
        assertThat(byDigest.tag()).isNull();
        assertThat(byDigest.localReference()).isNull();
        assertThat(byDigest.familiar()).isEqualTo("localhost:5000/app@" + DIGEST);
        assertThat(RemoteReference.parse("app@" + DIGEST, null).manifestReference()).isEqualTo(DIGEST);

        assertThatThrownBy(() -> RemoteReference.parse("Upper", null)).isInstanceOf(DomainException.class)
                .hasMessageContaining("must be lowercase");
        assertThatThrownBy(() -> RemoteReference.parse("app@sha256:short", null)).isInstanceOf(DomainException.class);
    }

    @Test
    void registryAuthHeaderIsBase64UrlJsonWithOrWithoutPadding() {
        String json = "{\"username\":\"u\",\"password\":\"p?>\",\"serveraddress\":\"x\"}";
        String url = Base64.getUrlEncoder().encodeToString(json.getBytes(StandardCharsets.UTF_8));
        String std = Base64.getEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
        for (String header : List.of(url, std)) {
            RegistryCredentials c = RegistryCredentials.fromHeader(header);
            assertThat(c.username()).isEqualTo("u");
            assertThat(c.password()).isEqualTo("p?>");
            assertThat(c.hasPassword()).isTrue();
        }
        assertThat(RegistryCredentials.fromHeader("e30=")).isEqualTo(RegistryCredentials.NONE);
        assertThat(RegistryCredentials.fromHeader(null)).isEqualTo(RegistryCredentials.NONE);
        assertThat(RegistryCredentials.fromHeader(Base64.getUrlEncoder().encodeToString(
                "{\"identitytoken\":\"tok\"}".getBytes(StandardCharsets.UTF_8))).identityToken()).isEqualTo("tok");
        assertThat(RegistryCredentials.fromHeader(url).toString()).doesNotContain("p?>");
        assertThatThrownBy(() -> RegistryCredentials.fromHeader("!!")).isInstanceOf(DomainException.class)
                .matches(e -> ((DomainException) e).status() == 400);
    }

    @Test
    void challengesParseLikeDockerHubs() {
        assertThat(RegistrySession.parameters(" realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                + "scope=\"repository:library/busybox:pull\",error=\"insufficient_scope\""))
                .isEqualTo(Map.of("realm", "https://auth.docker.io/token", "service", "registry.docker.io",
                        "scope", "repository:library/busybox:pull", "error", "insufficient_scope"));
        assertThat(RegistrySession.parameters(" realm=basic-realm")).isEqualTo(Map.of("realm", "basic-realm"));
    }

    @Test
    void loopbackAndListedRegistriesAreInsecure() {
        RegistryClient client = new RegistryClient(java.util.Optional.of(List.of("10.1.0.0/16", "reg.lan:5000")));
        assertThat(client.isInsecure("127.0.0.1:5000")).isTrue();
        assertThat(client.isInsecure("127.8.9.10")).isTrue();
        assertThat(client.isInsecure("localhost:5000")).isTrue();
        assertThat(client.isInsecure("10.1.200.3:5000")).isTrue();
        assertThat(client.isInsecure("reg.lan:5000")).isTrue();
        assertThat(client.isInsecure("10.2.0.1:5000")).isFalse();
        assertThat(client.isInsecure("registry-1.docker.io")).isFalse();
        assertThat(client.isInsecure("reg.lan:5001")).isFalse();
    }

    @Test
    void progressBarLooksLikeDockers() {
        assertThat(ProgressStream.bar(0, 1000)).startsWith("[>").endsWith("] 0B/1.00kB");
        assertThat(ProgressStream.bar(1982333, 1982333)).startsWith("[=====").endsWith("] 1.98MB/1.98MB");
        assertThat(ProgressStream.shortId(DIGEST)).isEqualTo("abababababab");
    }
}
