package dev.berth.node.agent;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The resolved settings of one agent instance: what {@link NodeConfig} gives, with defaults filled in. Tests build
 * these directly to run agents side by side.
 */
public record AgentSettings(String nodeId, Path stateRoot, Path runRoot, Path shim, String advertisedAddress,
                            String registryUrl, Duration heartbeatInterval, String kafkaBootstrapServers,
                            String dataPlaneHost, int dataPlanePort, int maxConnections, String bridgeName,
                            String bridgeSubnet, String cgroupParent, String commandsOffsetReset) {

    public static AgentSettings from(NodeConfig c) {
        return new AgentSettings(c.id().filter(s -> !s.isBlank()).orElseGet(AgentSettings::hostName),
                Path.of(c.stateRoot()), Path.of(c.runRoot()),
                c.shimPath().filter(s -> !s.isBlank()).map(Path::of).orElseGet(AgentSettings::defaultShim),
                c.advertisedAddress().filter(s -> !s.isBlank()).orElse(null), c.registryUrl(), c.heartbeatInterval(),
                c.kafkaBootstrapServers(), c.dataPlane().host(), c.dataPlane().port(), c.dataPlane().maxConnections(),
                c.bridge().name(), c.bridge().subnet().filter(s -> !s.isBlank()).orElse(null), c.cgroupParent(),
                c.commandsOffsetReset());
    }

    /**
     * {@code native/berth-shim} in the build directory the agent runs from (target/quarkus-app/app/x.jar or
     * target/classes), else the installed location.
     */
    static Path defaultShim() {
        try {
            Path here = Path.of(AgentSettings.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path p = here; p != null; p = p.getParent()) {
                Path shim = p.resolve("native").resolve("berth-shim");
                if (java.nio.file.Files.isExecutable(shim)) {
                    return shim;
                }
            }
        } catch (Exception e) {
            // not run from a file: use the installed one
        }
        return Path.of("/usr/libexec/berth/berth-shim");
    }

    static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            String h = System.getenv("HOSTNAME");
            return h == null || h.isBlank() ? "localhost" : h;
        }
    }
}
