package dev.berth.node.agent;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready when the node receives commands (the consumer has its partitions) and its data plane listens. The outbox
 * backlog is reported but does not make the node unready: observations wait safely on disk while Kafka is away.
 */
@Readiness
@ApplicationScoped
public class AgentReadiness implements HealthCheck {
    private final AgentLifecycle lifecycle;

    public AgentReadiness(AgentLifecycle lifecycle) {
        this.lifecycle = lifecycle;
    }

    @Override
    public HealthCheckResponse call() {
        NodeAgent a = lifecycle.agent();
        HealthCheckResponseBuilder b = HealthCheckResponse.named("berth-node-agent");
        if (a == null) {
            return b.down().withData("reason", "not started").build();
        }
        b.withData("node", a.settings().nodeId())
                .withData("dataPlane", a.advertisedAddress())
                .withData("outboxPending", a.outboxPending());
        String err = a.outboxError();
        if (err != null) {
            b.withData("outboxError", err);
        }
        return a.ready() ? b.up().build() : b.down().build();
    }
}
