package dev.berth.gateway.api;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RouteTest {

    @Test
    void gatewayEndpoints() {
        assertThat(Route.of("/_ping", false)).isEqualTo(new Route.Local(Route.Endpoint.PING));
        assertThat(Route.of("/version", true)).isEqualTo(new Route.Local(Route.Endpoint.VERSION));
        assertThat(Route.of("/info", true)).isEqualTo(new Route.Local(Route.Endpoint.INFO));
        assertThat(Route.of("/events", true)).isEqualTo(new Route.Local(Route.Endpoint.EVENTS));
        assertThat(Route.of("/system/df", true)).isEqualTo(new Route.Local(Route.Endpoint.SYSTEM_DF));
        assertThat(Route.of("/system/other", true)).isNull();
        assertThat(Route.of("/_berth/tags/web:1/history", false)).isEqualTo(new Route.Proxy(Route.Service.IMAGE));
        assertThat(Route.of("/_berth/replay", false)).as("each service's replay is internal").isNull();
    }

    @Test
    void servicesByNoun() {
        assertThat(Route.of("/containers/create", true)).isEqualTo(new Route.Proxy(Route.Service.CONTAINER));
        assertThat(Route.of("/exec/abc/start", true)).isEqualTo(new Route.Proxy(Route.Service.CONTAINER));
        assertThat(Route.of("/images/create", true)).isEqualTo(new Route.Proxy(Route.Service.IMAGE));
        assertThat(Route.of("/build", true)).isEqualTo(new Route.Proxy(Route.Service.IMAGE));
        assertThat(Route.of("/commit", true)).isEqualTo(new Route.Proxy(Route.Service.IMAGE));
        assertThat(Route.of("/distribution/x/json", true)).isEqualTo(new Route.Proxy(Route.Service.IMAGE));
        assertThat(Route.of("/networks", true)).isEqualTo(new Route.Proxy(Route.Service.NETWORK));
        assertThat(Route.of("/volumes/prune", true)).isEqualTo(new Route.Proxy(Route.Service.VOLUME));
    }

    @Test
    void registryOnlyWithoutAVersionPrefix() {
        assertThat(Route.of("/v2/", false)).isEqualTo(new Route.Proxy(Route.Service.IMAGE));
        assertThat(Route.of("/v2/", true)).isNull();
    }

    @Test
    void unknown() {
        assertThat(Route.of("/plugins/x/json", true)).isNull();
        assertThat(Route.of("/", false)).isNull();
        assertThat(Route.of("/containers", true)).isNull();
        assertThat(Route.of("/info/x", true)).isNull();
    }
}
