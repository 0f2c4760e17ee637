package dev.berth.eventstore;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/** The outbox relay: publishes this service's committed events to Kafka. */
@ConfigMapping(prefix = "berth.relay")
public interface RelayConfig {

    /** Whether this instance runs the relay loop (a test may drive it by hand instead). */
    @WithDefault("true")
    boolean enabled();

    /** How long the loop waits when it found fewer events than a batch. */
    @WithDefault("200ms")
    Duration pollInterval();

    /** At most this many events per transaction and Kafka flush. */
    @WithDefault("500")
    int batchSize();

    /** The cursor row in {@code outbox_cursor}; instances sharing a name share the cursor (one publishes at a time). */
    @WithDefault("default")
    String name();

    /** CloudEvents {@code source}; default {@code /<berth.service.name>}. */
    Optional<String> source();

    /** The longest wait between attempts while Kafka or the database is unreachable. */
    @WithDefault("5s")
    Duration maxBackoff();

    /** How long the producer tries to deliver a batch before the relay gives up on it and retries from the cursor. */
    @WithDefault("30s")
    Duration deliveryTimeout();
}
