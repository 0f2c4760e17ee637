package dev.berth.gateway.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Configuration of the Docker Engine API front door, under the prefix {@code berth.gateway}.
 *
 * <p>Every property can also be given as an environment variable in MicroProfile form
 * (e.g. {@code BERTH_GATEWAY_CONTAINER_SERVICE_PORT}); the listener address and the token file
 * additionally honour the short variables {@code BERTH_API_HOST}, {@code BERTH_API_PORT} and
 * {@code BERTH_TOKENS_FILE} (see application.properties).
 */
@ConfigMapping(prefix = "berth.gateway")
public interface GatewayConfig {

    /** Where the Docker Engine API listens. */
    Api api();

    /** Bearer-token authentication and tenant mapping. */
    Auth auth();

    /** The image-service: /images/**, /build, /commit, /distribution/**, and the registry API /v2/**. */
    @WithName("image-service")
    Backend imageService();

    /**
     * The container-service: /containers/** and /exec/**, except the data-plane paths, for which it only answers the
     * lookup of the container's node ({@code /_berth/locate/...}).
     */
    @WithName("container-service")
    Backend containerService();

    /** The network-service: /networks/**. */
    @WithName("network-service")
    Backend networkService();

    /** The volume-service: /volumes/**. */
    @WithName("volume-service")
    Backend volumeService();

    /** Routing of the data-plane endpoints (logs, attach, exec, archive, stats...) to the node running the container. */
    @WithName("data-plane")
    DataPlane dataPlane();

    /** The event stream, {@code GET /events}, read from the platform's Kafka topics. */
    Events events();

    /** How long /info waits for a service's list before it reports the service as unavailable. */
    @WithName("info-timeout")
    @WithDefault("3s")
    Duration infoTimeout();

    /** Directory reported as DockerRootDir by /info; the node agents keep their layers and containers there. */
    @WithName("root-dir")
    @WithDefault("/var/lib/berth")
    String rootDir();

    /** Git commit reported by /version; set at build or deploy time, "unknown" otherwise. */
    @WithName("git-commit")
    @WithDefault("unknown")
    String gitCommit();

    interface Api {
        /** Address the Docker API binds to; 127.0.0.1 keeps it local unless deliberately exposed. */
        @WithDefault("127.0.0.1")
        String host();

        /** TCP port of the Docker API; 0 picks a free port (tests). */
        @WithDefault("2375")
        int port();

        /** Netty I/O threads serving the Docker API and the proxied connections; 0 means Netty's default (2 x cores). */
        @WithName("io-threads")
        @WithDefault("0")
        int ioThreads();

        /** Largest accepted request head (request line plus headers); X-Registry-Auth headers can be long. */
        @WithName("max-header-size")
        @WithDefault("65536")
        int maxHeaderSize();
    }

    interface Auth {
        /**
         * File of {@code token tenant} lines. Absent: authentication is off and every request belongs to the
         * tenant {@code default}. Present: every request except {@code /_ping} must carry a known token.
         */
        @WithName("tokens-file")
        Optional<Path> tokensFile();

        /** Whether /_ping answers without a token, so load balancers and version negotiation work before login. */
        @WithName("ping-open")
        @WithDefault("true")
        boolean pingOpen();
    }

    interface DataPlane {
        /**
         * How long the lookup of a container's node at container-service ({@code /_berth/locate/...}) may take
         * before the request is answered 503.
         */
        @WithName("locate-timeout")
        @WithDefault("10s")
        Duration locateTimeout();

        /** How long to wait for a TCP connection to a node's data plane before answering 502. */
        @WithName("connect-timeout")
        @WithDefault("5s")
        Duration connectTimeout();
    }

    interface Events {
        /** Kafka bootstrap servers of the platform's event topics. */
        @WithName("bootstrap-servers")
        @WithDefault("127.0.0.1:59092")
        String bootstrapServers();

        /**
         * How far before {@code since} the topics are searched by record time: a record's Kafka timestamp is taken
         * when the outbox relay publishes it, normally after its {@code ce_time}, but producers' clocks may drift.
         */
        @WithName("seek-margin")
        @WithDefault("1m")
        Duration seekMargin();

        /** How many recent event ids a stream remembers to drop the relay's redeliveries (at-least-once). */
        @WithName("dedupe-window")
        @WithDefault("4096")
        int dedupeWindow();

        /** How long a stream waits for the brokers' metadata before it gives up and closes the connection. */
        @WithName("metadata-timeout")
        @WithDefault("15s")
        Duration metadataTimeout();
    }

    interface Backend {
        /** Host of the service's HTTP API. */
        @WithDefault("127.0.0.1")
        String host();

        /** Port of the service's HTTP API. */
        int port();

        /** How long to wait for a TCP connection before answering 503. */
        @WithName("connect-timeout")
        @WithDefault("5s")
        Duration connectTimeout();
    }
}
