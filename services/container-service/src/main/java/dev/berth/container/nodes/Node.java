package dev.berth.container.nodes;

/**
 * A node agent as container-service knows it from its heartbeats.
 *
 * @param address the data plane, {@code host:port}
 */
public record Node(String id, String address, int cpus, long memory) {
}
