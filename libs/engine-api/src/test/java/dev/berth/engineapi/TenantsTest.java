package dev.berth.engineapi;

import dev.berth.events.DomainException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TenantsTest {

    @Test
    void noHeaderIsTheDefaultTenant() {
        assertThat(Tenants.of(null)).isEqualTo("default");
        assertThat(Tenants.of("  ")).isEqualTo("default");
    }

    @Test
    void aValidNameIsKeptWithoutSurroundingSpaces() {
        assertThat(Tenants.of(" acme-prod_1.eu ")).isEqualTo("acme-prod_1.eu");
        assertThat(Tenants.of("a".repeat(128))).hasSize(128);
    }

    @ParameterizedTest
    @ValueSource(strings = {"../etc", "a/b", ".hidden", "-x", "_x", "a b", "tenant\u00e9"})
    void aNameThatIsNotOneSafePathSegmentIsRefused(String header) {
        assertThatThrownBy(() -> Tenants.of(header))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(400))
                .hasMessage("invalid tenant \"" + header + "\"");
    }

    @Test
    void aNameLongerThan128IsRefused() {
        assertThatThrownBy(() -> Tenants.of("a".repeat(129))).isInstanceOf(DomainException.class);
    }
}
