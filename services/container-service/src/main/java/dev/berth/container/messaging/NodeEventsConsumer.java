package dev.berth.container.messaging;

import dev.berth.container.domain.ContainerEvent;
import dev.berth.container.nodes.NodeDirectory;
import dev.berth.container.persistence.ContainerService;
import dev.berth.container.persistence.Waits;
import dev.berth.events.EventCodec;
import dev.berth.events.EventEnvelope;
import dev.berth.events.node.NodeObservation;
import dev.berth.eventstore.IdempotentConsumer;
import dev.berth.eventstore.KafkaEvents;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.hibernate.reactive.mutiny.Mutiny;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Reads {@code berth.nodes.events}: heartbeats feed the node directory; container facts become events of the
 * container's tenant aggregate (each observation once, by its {@code ce_id}), and then, after the commit, complete
 * the command they answer ({@link CommandBus}) and the waits they satisfy ({@link Waits}). A fact about a container
 * this service does not know (removed meanwhile, or never created here) is logged and skipped.
 */
@ApplicationScoped
public class NodeEventsConsumer {

    static final String CONSUMER = "container-service.nodes";
    private static final Logger LOG = Logger.getLogger(NodeEventsConsumer.class);
    private static final EventCodec<NodeObservation> CODEC = EventCodec.of(NodeObservation.class);

    private final IdempotentConsumer consumer;
    private final Mutiny.SessionFactory sessions;
    private final NodeDirectory nodes;
    private final ContainerService containers;
    private final CommandBus bus;
    private final Waits waits;
    private final io.vertx.core.Vertx vertx;

    public NodeEventsConsumer(IdempotentConsumer consumer, Mutiny.SessionFactory sessions, NodeDirectory nodes,
                              ContainerService containers, CommandBus bus, Waits waits, io.vertx.core.Vertx vertx) {
        this.vertx = vertx;
        this.consumer = consumer;
        this.sessions = sessions;
        this.nodes = nodes;
        this.containers = containers;
        this.bus = bus;
        this.waits = waits;
    }

    @Incoming("nodes-in")
    public Uni<Void> on(ConsumerRecord<String, byte[]> record) {
        EventEnvelope event;
        NodeObservation observation;
        try {
            event = KafkaEvents.envelope(record);
            if (!CODEC.knows(event.type())) {
                return Uni.createFrom().voidItem();
            }
            observation = CODEC.decode(event.type(), event.data());
        } catch (IllegalArgumentException e) {
            LOG.warnf("skipping a record on berth.nodes.events that is not a node observation: %s", e.getMessage());
            return Uni.createFrom().voidItem();
        }
        if (observation instanceof NodeObservation.NodeHeartbeat h) {
            // a heartbeat is an upsert that keeps the latest time: applying it twice changes nothing
            return onSafeContext(() -> sessions.withTransaction(s -> nodes.heartbeat(s, h)))
                    // the next heartbeat comes soon: a lost one must not stop the channel
                    .onFailure().recoverWithUni(e -> {
                        LOG.warnf("heartbeat of %s not recorded: %s", h.nodeId(), e);
                        return Uni.createFrom().voidItem();
                    });
        }
        NodeObservation.ContainerFact fact = (NodeObservation.ContainerFact) observation;
        AtomicReference<List<ContainerEvent>> appended = new AtomicReference<>(List.of());
        return consumer.processOnce(CONSUMER, event, (session, e) -> apply(session, fact, appended))
                // a concurrent API append on the same tenant aggregate wins the version race: do it again
                .onFailure().retry().withBackOff(Duration.ofMillis(20), Duration.ofSeconds(1)).atMost(20)
                .invoke(() -> {
                    waits.applied(appended.get());
                    bus.answered(event.causationId(), observation);
                })
                .replaceWithVoid();
    }

    /** Hibernate Reactive needs a safe duplicated Vert.x context, which a Kafka delivery may not be on. */
    private <T> Uni<T> onSafeContext(java.util.function.Supplier<Uni<T>> work) {
        io.vertx.core.Context current = io.vertx.core.Vertx.currentContext();
        if (current != null && io.smallrye.common.vertx.VertxContext.isDuplicatedContext(current)
                && io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle.isExplicitlyMarkedAsSafe(current)) {
            return Uni.createFrom().deferred(work::get);
        }
        return Uni.createFrom().emitter(emitter -> {
            io.vertx.core.Context context = io.smallrye.common.vertx.VertxContext.createNewDuplicatedContext(
                    vertx.getOrCreateContext());
            io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle.setContextSafe(context, true);
            context.runOnContext(ignored -> work.get().subscribe().with(emitter::complete, emitter::fail));
        });
    }

    private Uni<Void> apply(Mutiny.Session session, NodeObservation.ContainerFact fact,
                            AtomicReference<List<ContainerEvent>> appended) {
        if (fact instanceof NodeObservation.CommandFailed || fact instanceof NodeObservation.ContainerCreated) {
            // answers that change no state
            return Uni.createFrom().voidItem();
        }
        return session.createNativeQuery("select tenant from container_view where id = ?1", String.class)
                .setParameter(1, fact.containerId()).getResultList().chain(tenants -> {
                    if (tenants.isEmpty()) {
                        LOG.infof("node %s reports %s about container %s, which this service does not know; skipped",
                                fact.nodeId(), fact.getClass().getSimpleName(), fact.containerId());
                        return Uni.createFrom().voidItem();
                    }
                    return containers.observe(tenants.get(0), fact).invoke(appended::set).replaceWithVoid();
                });
    }
}
