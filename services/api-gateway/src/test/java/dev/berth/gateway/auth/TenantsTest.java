package dev.berth.gateway.auth;

import dev.berth.gateway.config.GatewayConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TenantsTest {

    @TempDir
    Path dir;

    @Test
    void withoutAFileEveryoneIsTheDefaultTenant() {
        Tenants tenants = new Tenants(config(null));
        assertThat(tenants.enabled()).isFalse();
        assertThat(tenants.authenticate(null)).isEqualTo(new Tenants.Decision.Allowed("default"));
        assertThat(tenants.authenticate("Bearer whatever")).isEqualTo(new Tenants.Decision.Allowed("default"));
    }

    @Test
    void bearerAndBasicTokensMapToTheirTenant() throws Exception {
        Path file = tokens("t1 alpha\nt2 beta\n");
        Tenants tenants = new Tenants(config(file));
        assertThat(tenants.authenticate("Bearer t1")).isEqualTo(new Tenants.Decision.Allowed("alpha"));
        assertThat(tenants.authenticate("bearer  t2 ")).isEqualTo(new Tenants.Decision.Allowed("beta"));
        String basic = Base64.getEncoder().encodeToString("user:t2".getBytes(StandardCharsets.UTF_8));
        assertThat(tenants.authenticate("Basic " + basic)).isEqualTo(new Tenants.Decision.Allowed("beta"));
        assertThat(tenants.authenticate("Bearer t3")).isInstanceOf(Tenants.Decision.Refused.class);
        assertThat(tenants.authenticate(null)).isInstanceOf(Tenants.Decision.Refused.class);
        assertThat(tenants.authenticate("Basic !!!")).isInstanceOf(Tenants.Decision.Refused.class);
    }

    @Test
    void rotatedTokensApplyWithoutRestart() throws Exception {
        Path file = tokens("old alpha\n");
        Tenants tenants = new Tenants(config(file));
        Files.writeString(file, "new alpha\n");
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
        assertThat(tenants.authenticate("Bearer new")).isEqualTo(new Tenants.Decision.Allowed("alpha"));
        assertThat(tenants.authenticate("Bearer old")).isInstanceOf(Tenants.Decision.Refused.class);
    }

    @Test
    void aBrokenReloadKeepsTheLastGoodTokens() throws Exception {
        Path file = tokens("good alpha\n");
        Tenants tenants = new Tenants(config(file));
        Files.writeString(file, "only-one-field\n");
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
        assertThat(tenants.authenticate("Bearer good")).isEqualTo(new Tenants.Decision.Allowed("alpha"));
    }

    @Test
    void anUnusableFileAtStartupStopsTheGateway() throws Exception {
        assertThatThrownBy(() -> new Tenants(config(dir.resolve("missing")))).hasMessageContaining("missing");
        assertThatThrownBy(() -> new Tenants(config(tokens("t1 Not_A_Tenant\n")))).hasMessageContaining("line 1");
        assertThatThrownBy(() -> new Tenants(config(tokens("t1 a\nt1 b\n")))).hasMessageContaining("twice");
    }

    @Test
    void anEmptyFileLetsNobodyIn() throws Exception {
        Tenants tenants = new Tenants(config(tokens("# nobody yet\n")));
        assertThat(tenants.authenticate("Bearer anything")).isInstanceOf(Tenants.Decision.Refused.class);
    }

    private Path tokens(String content) throws Exception {
        Path file = Files.createTempFile(dir, "tokens", ".txt");
        Files.writeString(file, content);
        return file;
    }

    /** Only the auth part of the configuration matters to Tenants. */
    private static GatewayConfig config(Path tokensFile) {
        GatewayConfig.Auth auth = (GatewayConfig.Auth) Proxy.newProxyInstance(TenantsTest.class.getClassLoader(),
                new Class<?>[] {GatewayConfig.Auth.class}, (p, m, a) -> switch (m.getName()) {
                    case "tokensFile" -> Optional.ofNullable(tokensFile);
                    case "pingOpen" -> true;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        return (GatewayConfig) Proxy.newProxyInstance(TenantsTest.class.getClassLoader(),
                new Class<?>[] {GatewayConfig.class}, (p, m, a) -> {
                    if (m.getName().equals("auth")) {
                        return auth;
                    }
                    throw new UnsupportedOperationException(m.getName());
                });
    }
}
