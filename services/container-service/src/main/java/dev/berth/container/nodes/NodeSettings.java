package dev.berth.container.nodes;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** How container-service talks to node agents ({@code berth.nodes.*}). */
@ConfigMapping(prefix = "berth.nodes")
public interface NodeSettings {

    /**
     * The agents' heartbeat interval; a node whose last heartbeat is older than three intervals is not scheduled on.
     */
    @WithDefault("10s")
    Duration heartbeatInterval();

    /** How long a command may wait for the node's answer before the request fails with 500 naming the node. */
    @WithDefault("60s")
    Duration commandTimeout();
}
