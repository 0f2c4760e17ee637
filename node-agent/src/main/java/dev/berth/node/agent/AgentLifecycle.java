package dev.berth.node.agent;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.io.IOException;

/**
 * Runs the {@link NodeAgent} for the Quarkus application: started at startup from {@link NodeConfig} (a failure
 * stops the application with the reason), stopped at shutdown (containers keep running).
 */
@ApplicationScoped
public class AgentLifecycle {
    private final NodeConfig config;
    private volatile NodeAgent agent;

    public AgentLifecycle(NodeConfig config) {
        this.config = config;
    }

    void start(@Observes StartupEvent event) throws IOException {
        agent = NodeAgent.start(AgentSettings.from(config));
    }

    void stop(@Observes ShutdownEvent event) {
        NodeAgent a = agent;
        agent = null;
        if (a != null) {
            a.close();
        }
    }

    /** The running agent, or null before startup and after shutdown. */
    public NodeAgent agent() {
        return agent;
    }
}
