package dev.berth.container.nodes;

import io.smallrye.mutiny.Uni;

/**
 * Chooses the node a new container runs on.
 *
 * <p>Contract: the node returned has sent a heartbeat recently enough that it takes commands now (a node that never
 * sent one would miss them: see docs/node/protocol.md). Fails with a {@link dev.berth.events.DomainException} 503
 * whose message says that no node is available when there is none.
 */
public interface Scheduler {

    /** A live node for a new container. */
    Uni<Node> pick();
}
