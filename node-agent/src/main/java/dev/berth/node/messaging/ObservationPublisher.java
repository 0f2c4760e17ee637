package dev.berth.node.messaging;

import dev.berth.events.CloudEventHeaders;
import dev.berth.events.EventCodec;
import dev.berth.events.EventEnvelope;
import dev.berth.events.Topics;
import dev.berth.events.node.NodeObservation;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Turns observations into CloudEvents records on {@code berth.nodes.events} and puts them in the outbox. Container
 * facts are keyed by container id, heartbeats by node id. Publishing a command's answer returns only once the answer
 * is durable: if the outbox cannot be written it retries (with a pause) rather than let the command count as handled.
 */
public final class ObservationPublisher {
    private static final Logger LOG = Logger.getLogger(ObservationPublisher.class);
    private static final EventCodec<NodeObservation> CODEC = EventCodec.of(NodeObservation.class);

    /** What caused an observation: a command's id and correlation id (both null for the node's own findings). */
    public record Cause(UUID commandId, UUID correlationId) {
        public static final Cause NONE = new Cause(null, null);
    }

    private final String nodeId;
    private final Outbox outbox;
    private final OutboxRelay relay;

    public ObservationPublisher(String nodeId, Outbox outbox, OutboxRelay relay) {
        this.nodeId = nodeId;
        this.outbox = outbox;
        this.relay = relay;
    }

    /** Appends observations durably, in order; retries until the outbox takes them or the thread is interrupted. */
    public void publish(Cause cause, List<? extends NodeObservation> observations) {
        if (observations.isEmpty()) {
            return;
        }
        List<Outbox.Draft> drafts = new ArrayList<>();
        for (NodeObservation o : observations) {
            drafts.add(draft(o, cause));
        }
        long pause = 200;
        while (true) {
            try {
                outbox.append(drafts);
                relay.wake();
                return;
            } catch (IOException e) {
                LOG.errorf("%s; retrying in %d ms", e.getMessage(), pause);
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted before the observation was durable", e);
                }
                pause = Math.min(pause * 2, 5000);
            }
        }
    }

    public void publish(Cause cause, NodeObservation observation) {
        publish(cause, List.of(observation));
    }

    /** Sends a heartbeat without keeping it (only the latest one is ever sent). */
    public void heartbeat(NodeObservation.NodeHeartbeat heartbeat) {
        relay.offerTransient(draft(heartbeat, Cause.NONE));
    }

    private Outbox.Draft draft(NodeObservation o, Cause cause) {
        String key = keyOf(o);
        EventEnvelope e = new EventEnvelope(UUID.randomUUID().toString(), "/node-agent/" + nodeId, CODEC.typeOf(o),
                key, Instant.now(), null, 0, cause.correlationId(), cause.commandId(), CODEC.encode(o));
        Map<String, String> headers = new LinkedHashMap<>();
        CloudEventHeaders.toHeaders(e).forEach((k, v) -> headers.put(k, new String(v, StandardCharsets.UTF_8)));
        // ce_sequence is replaced by the outbox sequence when the record is appended
        return new Outbox.Draft(Topics.NODES, key, headers, e.data());
    }

    /** The record key: the container for container facts, the node for the rest. */
    public static String keyOf(NodeObservation o) {
        if (o instanceof NodeObservation.ContainerFact f && f.containerId() != null) {
            return f.containerId();
        }
        return o.nodeId();
    }

    public String nodeId() {
        return nodeId;
    }
}
