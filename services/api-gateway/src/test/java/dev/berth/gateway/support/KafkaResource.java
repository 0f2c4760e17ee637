package dev.berth.gateway.support;

import dev.berth.testing.KafkaBroker;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.Map;

/**
 * The platform's real Kafka broker for the gateway ({@link KafkaBroker#shared()}, as BerthTestResource uses), without
 * the PostgreSQL the gateway does not need.
 */
public class KafkaResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        return Map.of("kafka.bootstrap.servers", KafkaBroker.shared().bootstrapServers());
    }

    @Override
    public void stop() {
        // the shared broker is stopped by its own shutdown hook
    }
}
