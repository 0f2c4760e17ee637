package dev.berth.node.agent;

import dev.berth.events.node.NodeObservation;
import dev.berth.node.api.DataPlaneApi;
import dev.berth.node.api.DataPlaneServer;
import dev.berth.node.cgroup.FsCgroupManager;
import dev.berth.node.images.LayerFetcher;
import dev.berth.node.messaging.CommandConsumer;
import dev.berth.node.messaging.ObservationPublisher;
import dev.berth.node.messaging.Outbox;
import dev.berth.node.messaging.OutboxRelay;
import dev.berth.node.messaging.ProcessedCommands;
import dev.berth.node.network.BridgeNetwork;
import dev.berth.node.network.NetworkConfig;
import dev.berth.node.runtime.ShimRuntime;
import dev.berth.node.snapshot.OverlaySnapshotter;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One running node agent: the runtime (ShimRuntime over OverlaySnapshotter, FsCgroupManager, BridgeNetwork), the
 * outbox and its relay to Kafka, the command consumer, the data plane and the heartbeat. Built from
 * {@link AgentSettings} without any framework, so tests can run several side by side; {@link AgentLifecycle} runs
 * one inside Quarkus.
 *
 * <p>Start order: runtime (which recovers the containers found under the roots), outbox relay, exit watching and
 * the recovery report, data plane, command consumer, and the first heartbeat once the consumer has its partitions
 * (so the control plane never sends a command this node would miss). {@link #close()} stops taking work; containers
 * keep running.
 */
public final class NodeAgent implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NodeAgent.class);

    private final AgentSettings settings;
    private OverlaySnapshotter snapshotter;
    private FsCgroupManager cgroups;
    private BridgeNetwork network;
    private ShimRuntime runtime;
    private Outbox outbox;
    private OutboxRelay relay;
    private ObservationPublisher publisher;
    private NodeContainers containers;
    private DataPlaneServer dataPlane;
    private CommandConsumer consumer;
    private ScheduledExecutorService heartbeats;
    private ProcessedCommands processed;

    private NodeAgent(AgentSettings settings) {
        this.settings = settings;
    }

    /**
     * Starts an agent. On failure everything already started is stopped again and the exception names the part that
     * failed.
     */
    public static NodeAgent start(AgentSettings s) throws IOException {
        NodeAgent a = new NodeAgent(s);
        try {
            a.boot();
            return a;
        } catch (IOException | RuntimeException e) {
            a.close();
            throw e;
        }
    }

    private void boot() throws IOException {
        Files.createDirectories(settings.stateRoot());
        Files.createDirectories(settings.runRoot());
        Path agentDir = Files.createDirectories(settings.stateRoot().resolve("agent"));
        snapshotter = new OverlaySnapshotter(settings.stateRoot(), settings.runRoot());
        cgroups = FsCgroupManager.detect(settings.cgroupParent());
        network = new BridgeNetwork(new NetworkConfig(settings.stateRoot(), settings.runRoot(), settings.bridgeName(),
                settings.bridgeSubnet(), null, null, null));
        runtime = new ShimRuntime(new ShimRuntime.Config(settings.stateRoot(), settings.runRoot(), settings.shim()),
                snapshotter, cgroups, network);
        outbox = new Outbox(agentDir.resolve("outbox.log"));
        relay = new OutboxRelay(outbox, settings.kafkaBootstrapServers(), "berth-node-" + settings.nodeId());
        relay.start();
        publisher = new ObservationPublisher(settings.nodeId(), outbox, relay);
        LayerFetcher fetcher = new LayerFetcher(URI.create(settings.registryUrl()), snapshotter,
                agentDir.resolve("downloads"));
        containers = new NodeContainers(settings.nodeId(), runtime, network, fetcher, publisher,
                agentDir.resolve("containers"));
        containers.recover();
        dataPlane = new DataPlaneServer(new DataPlaneApi(containers, snapshotter, cgroups.mode(), settings.runRoot()),
                settings.dataPlaneHost(), settings.dataPlanePort(), settings.maxConnections());
        processed = new ProcessedCommands(agentDir.resolve("processed-commands"), 10_000);
        consumer = new CommandConsumer(settings.nodeId(), settings.kafkaBootstrapServers(),
                settings.commandsOffsetReset(), containers, processed, publisher);
        consumer.start();
        heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "berth-node-heartbeat");
            t.setDaemon(true);
            return t;
        });
        heartbeats.scheduleWithFixedDelay(this::heartbeat, 0, Math.max(100, settings.heartbeatInterval().toMillis()),
                TimeUnit.MILLISECONDS);
        LOG.infof("node %s up: data plane on %s, cgroups %s, registry %s", settings.nodeId(), advertisedAddress(),
                cgroups.mode(), settings.registryUrl());
    }

    private void heartbeat() {
        try {
            if (!consumer.ready()) {
                return;
            }
            int[] counts = containers.counts();
            publisher.heartbeat(new NodeObservation.NodeHeartbeat(settings.nodeId(), advertisedAddress(),
                    Runtime.getRuntime().availableProcessors(), memTotal(), counts[0], counts[1], cgroups.mode(),
                    Instant.now()));
        } catch (RuntimeException e) {
            LOG.warnf("heartbeat: %s", e.toString());
        }
    }

    /**
     * Where the control plane reaches the data plane: the configured address, else the listen address (the host name
     * for a wildcard) and the bound port.
     */
    public String advertisedAddress() {
        if (settings.advertisedAddress() != null) {
            return settings.advertisedAddress();
        }
        String host = settings.dataPlaneHost();
        if (host.equals("0.0.0.0") || host.equals("::")) {
            host = AgentSettings.hostName();
        }
        return host + ":" + (dataPlane == null ? settings.dataPlanePort() : dataPlane.port());
    }

    private static long memTotal() {
        try (InputStream in = Files.newInputStream(Path.of("/proc/meminfo"))) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // unknown
        }
        return 0;
    }

    /** Whether commands reach this node and the data plane answers. */
    public boolean ready() {
        return consumer != null && consumer.ready() && dataPlane != null && dataPlane.listening();
    }

    /** The last Kafka send failure of the outbox relay, or null. */
    public String outboxError() {
        return relay == null ? null : relay.lastError();
    }

    /** Observations not yet on Kafka. */
    public int outboxPending() {
        return outbox == null ? 0 : outbox.pendingCount();
    }

    public AgentSettings settings() {
        return settings;
    }

    public int dataPlanePort() {
        return dataPlane.port();
    }

    public ShimRuntime runtime() {
        return runtime;
    }

    public OverlaySnapshotter snapshotter() {
        return snapshotter;
    }

    public BridgeNetwork network() {
        return network;
    }

    public FsCgroupManager cgroups() {
        return cgroups;
    }

    public NodeContainers containers() {
        return containers;
    }

    /**
     * Stops taking work, newest parts first: no more heartbeats and commands, then the data plane, the command
     * handlers (a command cut short is not committed and comes again), the relay (pending observations stay in the
     * outbox), the runtime. Containers keep running.
     */
    @Override
    public synchronized void close() {
        List<AutoCloseable> order = new ArrayList<>();
        if (heartbeats != null) {
            order.add(heartbeats::shutdownNow);
        }
        order.add(consumer);
        order.add(dataPlane);
        order.add(containers);
        order.add(processed);
        order.add(relay);
        order.add(outbox);
        order.add(runtime);
        order.add(snapshotter);
        for (AutoCloseable c : order) {
            if (c == null) {
                continue;
            }
            try {
                c.close();
            } catch (Exception e) {
                LOG.warnf("stopping the agent: %s", e.toString());
            }
        }
        heartbeats = null;
        consumer = null;
        dataPlane = null;
        containers = null;
        processed = null;
        relay = null;
        outbox = null;
        runtime = null;
        snapshotter = null;
    }
}
