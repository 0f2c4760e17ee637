package dev.berth.gateway.api;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ApiVersionTest {

    @Test
    void splitsTheVersionPrefixOffThePath() {
        assertThat(ApiVersion.split("/v1.41/containers/json")).isEqualTo(new ApiVersion.Split(ApiVersion.parse("1.41"), "/containers/json"));
        assertThat(ApiVersion.split("/containers/json")).isEqualTo(new ApiVersion.Split(null, "/containers/json"));
        assertThat(ApiVersion.split("/v1.41").version()).isNull();
    }

    @Test
    void leavesTheRegistryApiAlone() {
        assertThat(ApiVersion.split("/v2/").version()).isNull();
        assertThat(ApiVersion.split("/v2/bb/manifests/1").path()).isEqualTo("/v2/bb/manifests/1");
        assertThat(ApiVersion.split("/v2").path()).isEqualTo("/v2");
    }

    @Test
    void comparesNumerically() {
        assertThat(ApiVersion.parse("1.5")).isLessThan(ApiVersion.parse("1.24"));
        assertThat(ApiVersion.parse("1.100")).isGreaterThan(ApiVersion.MAX);
        assertThat(ApiVersion.parse("1.41.0")).isEqualTo(ApiVersion.parse("1.41"));
        assertThat(ApiVersion.parse("2")).isGreaterThan(ApiVersion.MAX);
        assertThat(ApiVersion.parse("1.99999999999999999999")).isGreaterThan(ApiVersion.MAX);
    }

    @Test
    void acceptsExactlyTheSupportedRange() {
        assertThat(ApiVersion.parse("1.24").rejection()).isNull();
        assertThat(ApiVersion.parse("1.51").rejection()).isNull();
        assertThat(ApiVersion.parse("1.23").rejection()).startsWith("client version 1.23 is too old.");
        assertThat(ApiVersion.parse("1.52").rejection()).startsWith("client version 1.52 is too new.");
    }

    @Test
    void unversionedMeansTheNewest() {
        assertThat(ApiVersion.split("/info").effective()).isEqualTo(ApiVersion.MAX);
    }
}
