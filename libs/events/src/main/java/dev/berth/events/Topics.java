package dev.berth.events;

import java.util.Map;
import java.util.Optional;

/**
 * Kafka topic names, one per aggregate family, keyed by aggregate id, plus the command topic to the node agents
 * (keyed by node name).
 */
public final class Topics {
    public static final String IMAGES = "berth.images.events";
    public static final String CONTAINERS = "berth.containers.events";
    public static final String NETWORKS = "berth.networks.events";
    public static final String VOLUMES = "berth.volumes.events";
    /** Node observations back to the control plane: heartbeats, container started/exited/oom, build steps. */
    public static final String NODES = "berth.nodes.events";
    /** Commands from the control plane to one node agent, keyed by node name. */
    public static final String NODE_COMMANDS = "berth.nodes.commands";

    private static final Map<String, String> BY_AGGREGATE_TYPE = Map.of(
            "image", IMAGES,
            "container", CONTAINERS,
            "network", NETWORKS,
            "volume", VOLUMES,
            "node", NODES);

    private Topics() {
    }

    /**
     * The topic that carries the events of an aggregate type ({@code image}, {@code container}, {@code network},
     * {@code volume}, {@code node}).
     *
     * @throws IllegalArgumentException for any other type: an event without a topic must not reach the log
     */
    public static String forAggregateType(String aggregateType) {
        String topic = BY_AGGREGATE_TYPE.get(aggregateType);
        if (topic == null) {
            throw new IllegalArgumentException("no topic for aggregate type '" + aggregateType
                    + "' (known: " + BY_AGGREGATE_TYPE.keySet() + ")");
        }
        return topic;
    }

    /** The aggregate type whose events a topic carries, if it is one of the event topics. */
    public static Optional<String> aggregateTypeOf(String topic) {
        return BY_AGGREGATE_TYPE.entrySet().stream()
                .filter(e -> e.getValue().equals(topic))
                .map(Map.Entry::getKey)
                .findFirst();
    }
}
