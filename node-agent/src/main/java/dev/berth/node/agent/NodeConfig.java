package dev.berth.node.agent;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** The node agent's settings ({@code berth.node.*}). */
@ConfigMapping(prefix = "berth.node")
public interface NodeConfig {

    /** The node's id: the key of its commands and heartbeats. Default: the host name. */
    Optional<String> id();

    /** Persistent state: layers, container snapshots and logs, the agent's outbox and records. */
    @WithDefault("/var/lib/berth")
    String stateRoot();

    /** Runtime state (gone after a reboot): shim bundles, rootfs mount targets, network namespaces. */
    @WithDefault("/run/berth")
    String runRoot();

    /**
     * The berth-shim binary (built with the agent). Default: {@code native/berth-shim} of the agent's own build
     * directory when it runs from one (the launcher's case), else {@code /usr/libexec/berth/berth-shim}.
     */
    Optional<String> shimPath();

    /**
     * {@code host:port} at which the control plane reaches this node's data plane (logs, attach, exec, archive),
     * sent in every heartbeat. Default: the data-plane listen address (the host name when it listens on all
     * addresses) and the bound port.
     */
    Optional<String> advertisedAddress();

    /** Base URL of the registry API (image-service's OCI distribution endpoint) the layer blobs are fetched from. */
    @WithDefault("http://127.0.0.1:7101")
    String registryUrl();

    /** How often a heartbeat is sent. */
    @WithDefault("10s")
    Duration heartbeatInterval();

    /** The data-plane listener. */
    DataPlane dataPlane();

    /** The default bridge network of this node. */
    Bridge bridge();

    /** Name of the node's parent cgroup, under which each container gets its own. */
    @WithDefault("berth")
    String cgroupParent();

    /** Where a node that never committed starts reading commands: latest (the default) or earliest. */
    @WithDefault("latest")
    String commandsOffsetReset();

    /** Kafka's bootstrap servers (shared with the rest of the platform). */
    @io.smallrye.config.WithName("kafka-bootstrap-servers")
    @WithDefault("${kafka.bootstrap.servers:localhost:9092}")
    String kafkaBootstrapServers();

    interface DataPlane {
        /**
         * Address to listen on. The data plane has no authentication of its own (it is reached only by
         * container-service): listen on 0.0.0.0 only where the network keeps everything else out.
         */
        @WithDefault("127.0.0.1")
        String host();

        /** Port to listen on (0: any free port). */
        @WithDefault("7080")
        int port();

        /** Connections served at once; more wait in the accept queue. */
        @WithDefault("256")
        int maxConnections();
    }

    interface Bridge {
        /** Linux bridge name (at most 15 characters). */
        @WithDefault("berth0")
        String name();

        /** IPv4 subnet in CIDR form; empty picks the first of Docker's pools that no host route uses. */
        Optional<String> subnet();
    }
}
