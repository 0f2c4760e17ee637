package dev.berth.gateway.api;

import dev.berth.gateway.auth.Tenants;
import dev.berth.gateway.config.GatewayConfig;
import dev.berth.gateway.events.EventStreams;
import dev.berth.gateway.proxy.NodeLocator;
import dev.berth.gateway.system.SystemEndpoints;

/**
 * What every connection of the Docker API listener shares: configuration, authentication, the engine-wide
 * endpoints, the response builder, the lookup of containers' nodes and the event streams.
 */
public record GatewayContext(GatewayConfig config, Tenants tenants, SystemEndpoints system, Responses responses,
                             NodeLocator locator, EventStreams events) {

    /** The configured address of a service. */
    public GatewayConfig.Backend backend(Route.Service service) {
        return switch (service) {
            case IMAGE -> config.imageService();
            case CONTAINER -> config.containerService();
            case NETWORK -> config.networkService();
            case VOLUME -> config.volumeService();
        };
    }
}
