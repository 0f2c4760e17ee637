package dev.berth.container.messaging;

import dev.berth.container.nodes.NodeSettings;
import dev.berth.events.CloudEventHeaders;
import dev.berth.events.DomainException;
import dev.berth.events.EventCodec;
import dev.berth.events.EventEnvelope;
import dev.berth.events.Topics;
import dev.berth.events.node.NodeCommand;
import dev.berth.events.node.NodeObservation;
import dev.berth.eventstore.RelayService;
import io.quarkus.runtime.ShutdownEvent;
import io.smallrye.common.annotation.Identifier;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.UniEmitter;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Sends {@link NodeCommand}s to node agents on {@code berth.nodes.commands} (CloudEvents binary mode, key = node id,
 * {@code ce_subject} = container id, {@code ce_id} = a fresh UUID, acks=all) and hands back the node's answer.
 *
 * <p>Contract: the Uni of {@link #send} completes with the first observation caused by the command that the caller's
 * predicate accepts, or with a {@link NodeObservation.CommandFailed} (always an answer), and only after
 * {@link NodeEventsConsumer} has applied that observation to the aggregate and the read model and committed, so a
 * read right after sees the new state. It fails with a {@link DomainException} 500 naming the node when no answer
 * arrives within {@code berth.nodes.command-timeout}, or when Kafka refuses the record.
 */
@ApplicationScoped
public class CommandBus {

    private static final Logger LOG = Logger.getLogger(CommandBus.class);
    private static final EventCodec<NodeCommand> CODEC = EventCodec.of(NodeCommand.class);

    private final KafkaProducer<String, byte[]> producer;
    private final NodeSettings settings;
    private final String source;
    private final Map<UUID, Pending> pending = new ConcurrentHashMap<>();

    private record Pending(Predicate<NodeObservation> accepts, UniEmitter<? super NodeObservation> emitter) {
    }

    private final io.vertx.core.Vertx vertx;

    public CommandBus(@Identifier("default-kafka-broker") Map<String, Object> kafka, NodeSettings settings,
                      io.vertx.core.Vertx vertx) {
        this.vertx = vertx;
        Map<String, Object> config = new HashMap<>();
        kafka.forEach((k, v) -> {
            if (k.equals("bootstrap.servers") || k.startsWith("security.") || k.startsWith("sasl.")
                    || k.startsWith("ssl.")) {
                config.put(k, v);
            }
        });
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        config.put(ProducerConfig.CLIENT_ID_CONFIG, "container-service-commands");
        this.producer = new KafkaProducer<>(config);
        this.settings = settings;
        this.source = "/" + RelayService.serviceName();
    }

    /** Sends a command; the answer is the first caused observation {@code accepts} takes, or a CommandFailed. */
    public Uni<NodeObservation> send(NodeCommand command, Predicate<NodeObservation> accepts) {
        return send(command, accepts, java.time.Duration.ZERO);
    }

    /**
     * As {@link #send(NodeCommand, Predicate)}, allowing {@code extra} time beyond the command timeout (a stop's
     * grace period).
     */
    public Uni<NodeObservation> send(NodeCommand command, Predicate<NodeObservation> accepts,
                                     java.time.Duration extra) {
        java.time.Duration limit = settings.commandTimeout().plus(extra);
        UUID id = UUID.randomUUID();
        String type = CODEC.typeOf(command);
        return Uni.createFrom().deferred(() -> {
            java.util.concurrent.Executor back = callersContext();
            return Uni.createFrom().<NodeObservation>emitter(emitter -> {
                    pending.put(id, new Pending(accepts, emitter));
                    EventEnvelope envelope = new EventEnvelope(id.toString(), source, type, command.containerId(),
                            Instant.now(), null, 0, id, null, CODEC.encode(command));
                    ProducerRecord<String, byte[]> record = new ProducerRecord<>(Topics.NODE_COMMANDS,
                            command.nodeId(), CloudEventHeaders.toValue(envelope));
                    CloudEventHeaders.toHeaders(envelope).forEach((k, v) -> record.headers().add(k, v));
                    producer.send(record, (meta, error) -> {
                        if (error != null) {
                            Pending p = pending.remove(id);
                            if (p != null) {
                                p.emitter().fail(new DomainException(500, "cannot send " + type + " to node "
                                        + command.nodeId() + ": " + error.getMessage()));
                            }
                        }
                    });
                })
                .ifNoItem().after(limit).failWith(() -> new DomainException(500, "node "
                        + command.nodeId() + " did not answer " + type + " for container " + command.containerId()
                        + " within " + limit.toSeconds() + " seconds"))
                .onTermination().invoke(() -> pending.remove(id))
                // the answer arrives on the consumer's context; the caller's next steps go on with their own
                .emitOn(back);
        });
    }

    /**
     * Where an answer is handed to the caller: the caller's Vert.x context (a request's, so reactive database work
     * can follow), else a fresh safe duplicated one.
     */
    private java.util.concurrent.Executor callersContext() {
        io.vertx.core.Context caller = io.vertx.core.Vertx.currentContext();
        if (caller != null) {
            return task -> caller.runOnContext(ignored -> task.run());
        }
        return task -> {
            io.vertx.core.Context context = io.smallrye.common.vertx.VertxContext.createNewDuplicatedContext(
                    vertx.getOrCreateContext());
            io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle.setContextSafe(context, true);
            context.runOnContext(ignored -> task.run());
        };
    }

    /** Sends a command whose first answer is awaited. */
    public Uni<NodeObservation> send(NodeCommand command) {
        return send(command, o -> true);
    }

    /**
     * Called by the consumer once an observation is applied and committed: completes the command it answers, if a
     * caller waits for it.
     */
    void answered(UUID causation, NodeObservation observation) {
        if (causation == null) {
            return;
        }
        Pending p = pending.get(causation);
        if (p != null && (observation instanceof NodeObservation.CommandFailed || p.accepts().test(observation))) {
            pending.remove(causation);
            p.emitter().complete(observation);
        }
    }

    void close(@Observes ShutdownEvent ignored) {
        try {
            producer.close(java.time.Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            LOG.debugf("closing the command producer: %s", e);
        }
    }
}
