package dev.berth.gateway.health;

import dev.berth.gateway.api.DockerApiServer;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready while the Docker API listener is bound; it reads the listener's state and calls nothing. */
@Readiness
@ApplicationScoped
public class DockerApiReadiness implements HealthCheck {

    private final DockerApiServer server;

    public DockerApiReadiness(DockerApiServer server) {
        this.server = server;
    }

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("docker-api")
                .status(server.listening())
                .withData("port", server.port())
                .build();
    }
}
