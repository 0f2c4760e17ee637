package dev.berth.container.nodes;

import dev.berth.events.DomainException;
import dev.berth.events.node.NodeObservation.NodeHeartbeat;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/**
 * The nodes container-service knows, kept in {@code node_view} from their heartbeats, and the default
 * {@link Scheduler}: among the nodes heard from within three heartbeat intervals, the one running the fewest
 * containers (ties by node id, so the choice is stable).
 */
@ApplicationScoped
public class NodeDirectory implements Scheduler {

    private final Mutiny.SessionFactory sessions;
    private final NodeSettings settings;

    public NodeDirectory(Mutiny.SessionFactory sessions, NodeSettings settings) {
        this.sessions = sessions;
        this.settings = settings;
    }

    /**
     * Records a heartbeat in the caller's transaction. The node's own clock says when, but never later than now: a
     * heartbeat read late (a consumer catching up) must not make a dead node look alive for longer than it was.
     */
    public Uni<Void> heartbeat(Mutiny.Session session, NodeHeartbeat h) {
        Instant now = Instant.now();
        Instant seen = h.time() == null || h.time().isAfter(now) ? now : h.time();
        return session.createNativeQuery("insert into node_view (node_id, address, cpus, memory, last_seen)"
                        + " values (?1, ?2, ?3, ?4, ?5) on conflict (node_id) do update set address = excluded.address,"
                        + " cpus = excluded.cpus, memory = excluded.memory,"
                        + " last_seen = greatest(node_view.last_seen, excluded.last_seen)")
                .setParameter(1, h.nodeId()).setParameter(2, h.address()).setParameter(3, h.cpus())
                .setParameter(4, h.memoryBytes()).setParameter(5, OffsetDateTime.ofInstant(seen, ZoneOffset.UTC))
                .executeUpdate().replaceWithVoid();
    }

    @Override
    public Uni<Node> pick() {
        OffsetDateTime cutoff = OffsetDateTime.now(ZoneOffset.UTC).minus(settings.heartbeatInterval().multipliedBy(3));
        return sessions.withSession(s -> s.createNativeQuery("select n.node_id, n.address, n.cpus, n.memory"
                        + " from node_view n where n.last_seen >= ?1 order by (select count(*) from container_view c"
                        + " where c.node_id = n.node_id and c.state in ('running', 'paused', 'restarting')), n.node_id",
                        Object[].class).setParameter(1, cutoff).setMaxResults(1).getResultList())
                .map(rows -> {
                    if (rows.isEmpty()) {
                        throw new DomainException(503, "no node is available to run containers: no node agent has"
                                + " sent a heartbeat in the last " + settings.heartbeatInterval().multipliedBy(3)
                                .toSeconds() + " seconds");
                    }
                    return node(rows.get(0));
                });
    }

    /** A known node by id (alive or not), or null. */
    public Uni<Node> find(String nodeId) {
        if (nodeId == null) {
            return Uni.createFrom().nullItem();
        }
        return sessions.withSession(s -> s.createNativeQuery("select node_id, address, cpus, memory from node_view"
                        + " where node_id = ?1", Object[].class).setParameter(1, nodeId).getResultList())
                .map(rows -> rows.isEmpty() ? null : node(rows.get(0)));
    }

    private static Node node(Object[] row) {
        return new Node((String) row[0], (String) row[1], ((Number) row[2]).intValue(), ((Number) row[3]).longValue());
    }
}
