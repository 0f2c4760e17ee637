package dev.berth.network.persistence;

import io.quarkus.runtime.StartupEvent;
import io.quarkus.vertx.VertxContextSupport;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Creates the default tenant's predefined networks at start-up (no event when they exist), so that its bridge holds
 * Docker's {@code 172.17.0.0/16} before any user network could claim that block. Other tenants get theirs on first use.
 */
@ApplicationScoped
public class PredefinedNetworks {

    void onStart(@Observes StartupEvent event, NetworkService networks) throws Throwable {
        VertxContextSupport.subscribeAndAwait(() -> networks.ensurePredefined("default"));
    }
}
