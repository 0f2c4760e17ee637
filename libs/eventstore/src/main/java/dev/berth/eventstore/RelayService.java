package dev.berth.eventstore;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import io.vertx.mutiny.sqlclient.Pool;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import java.util.Map;

/**
 * The service's outbox relay, started with the application when {@code berth.relay.enabled} (the default) and
 * stopped with it. CloudEvents source: {@code berth.relay.source}, else {@code /<berth.service.name>}, else
 * {@code /<quarkus.application.name>}. Kafka: the application's {@code kafka.*} configuration.
 */
@ApplicationScoped
public class RelayService {
    private static final Logger LOG = Logger.getLogger(RelayService.class);

    private final OutboxRelay relay;
    private final boolean enabled;
    private final String source;

    public RelayService(Pool pool, RelayConfig config,
                        @Identifier("default-kafka-broker") Map<String, Object> kafka) {
        this.source = config.source().orElseGet(() -> "/" + serviceName());
        this.enabled = config.enabled();
        this.relay = OutboxRelay.builder()
                .pool(pool)
                .kafka(kafka)
                .source(source)
                .name(config.name())
                .batchSize(config.batchSize())
                .pollInterval(config.pollInterval())
                .maxBackoff(config.maxBackoff())
                .deliveryTimeout(config.deliveryTimeout())
                .build();
    }

    /** {@code berth.service.name}, else {@code quarkus.application.name}. */
    public static String serviceName() {
        var config = ConfigProvider.getConfig();
        return config.getOptionalValue("berth.service.name", String.class)
                .or(() -> config.getOptionalValue("quarkus.application.name", String.class))
                .orElse("berth");
    }

    void onStart(@Observes StartupEvent ignored) {
        if (enabled) {
            relay.start();
            LOG.infof("outbox relay started (source %s)", source);
        }
    }

    void onStop(@Observes ShutdownEvent ignored) {
        relay.close();
    }

    /** The CloudEvents source of this service's events. */
    public String source() {
        return source;
    }

    /** Publishes the next batch now, in the caller's thread (blocking); see {@link OutboxRelay#publishOnce()}. */
    public int publishOnce() {
        return relay.publishOnce();
    }
}
