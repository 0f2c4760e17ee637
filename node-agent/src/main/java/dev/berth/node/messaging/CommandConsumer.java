package dev.berth.node.messaging;

import dev.berth.events.CloudEventHeaders;
import dev.berth.events.EventCodec;
import dev.berth.events.EventEnvelope;
import dev.berth.events.Topics;
import dev.berth.events.node.NodeCommand;
import dev.berth.events.node.NodeObservation;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads {@code berth.nodes.commands} (its own consumer group per node, so every node sees every partition) and hands
 * the commands keyed with this node's id to the {@link CommandHandler}; the others are skipped.
 *
 * <p>Offsets are committed by hand and only up to the last command whose answer is durable: a command in progress
 * (or whose handling was cut short by a shutdown) is delivered again after a restart. A command id already handled
 * (the {@link ProcessedCommands} file) or in progress is not handled again.
 */
public final class CommandConsumer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(CommandConsumer.class);
    private static final EventCodec<NodeCommand> CODEC = EventCodec.of(NodeCommand.class);

    private final String nodeId;
    private final Map<String, Object> config;
    private final CommandHandler handler;
    private final ProcessedCommands processed;
    private final ObservationPublisher publisher;
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private final Map<TopicPartition, TreeMap<Long, CompletableFuture<Void>>> progress = new HashMap<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile boolean assigned;
    private KafkaConsumer<String, byte[]> consumer;

    /**
     * @param autoOffsetReset where a node that has never committed starts: "latest" (commands sent before the node's
     *                        first heartbeat are not for it) or "earliest"
     */
    public CommandConsumer(String nodeId, String bootstrapServers, String autoOffsetReset, CommandHandler handler,
                           ProcessedCommands processed, ObservationPublisher publisher) {
        this.nodeId = nodeId;
        this.handler = handler;
        this.processed = processed;
        this.publisher = publisher;
        Map<String, Object> c = new HashMap<>();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "berth-node-" + nodeId);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "berth-node-" + nodeId + "-commands");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, autoOffsetReset);
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 50);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
        // a command topic created after the agent started is found within seconds, not the default five minutes
        c.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, 5000);
        this.config = c;
        this.thread = new Thread(this::run, "berth-node-commands");
        thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** Whether the consumer has its partitions (commands sent from now on reach this node). */
    public boolean ready() {
        return assigned;
    }

    private void run() {
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(config, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            consumer = c;
            c.subscribe(List.of(Topics.NODE_COMMANDS), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    commitCompleted();
                    partitions.forEach(progress::remove);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    // Resolve the start position now (auto.offset.reset=latest): a command sent after ready() is seen.
                    for (TopicPartition tp : partitions) {
                        c.position(tp);
                    }
                    if (!assigned) {
                        LOG.infof("node %s reads its commands from %s", nodeId, partitions);
                    }
                    assigned = true;
                }
            });
            while (running) {
                try {
                    for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                        dispatch(r);
                    }
                    commitCompleted();
                } catch (WakeupException e) {
                    break;
                } catch (RuntimeException e) {
                    LOG.warnf("node commands: %s", e.toString());
                    sleep(1000);
                }
            }
            commitCompleted();
        } catch (RuntimeException e) {
            LOG.errorf(e, "node command consumer stopped");
        }
    }

    private void dispatch(ConsumerRecord<String, byte[]> r) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        CompletableFuture<Void> done;
        if (!nodeId.equals(r.key())) {
            done = CompletableFuture.completedFuture(null);
        } else {
            done = handle(r);
        }
        progress.computeIfAbsent(tp, k -> new TreeMap<>()).put(r.offset(), done);
    }

    private CompletableFuture<Void> handle(ConsumerRecord<String, byte[]> r) {
        Map<String, byte[]> headers = new LinkedHashMap<>();
        for (Header h : r.headers()) {
            headers.put(h.key(), h.value());
        }
        EventEnvelope e;
        try {
            e = CloudEventHeaders.fromRecord(headers, r.key(), r.value());
        } catch (IllegalArgumentException ex) {
            LOG.warnf("node commands: skipping a record at %s-%d@%d that is not a CloudEvent: %s", r.topic(),
                    r.partition(), r.offset(), ex.getMessage());
            return CompletableFuture.completedFuture(null);
        }
        String id = e.id();
        if (processed.contains(id) || !inFlight.add(id)) {
            return CompletableFuture.completedFuture(null);
        }
        ObservationPublisher.Cause cause = new ObservationPublisher.Cause(uuid(id), e.correlationId());
        NodeCommand command;
        try {
            command = CODEC.decode(e.type(), e.data());
            if (!nodeId.equals(command.nodeId())) {
                throw new IllegalArgumentException("command for node " + command.nodeId() + " keyed with " + nodeId);
            }
        } catch (IllegalArgumentException ex) {
            return CompletableFuture.runAsync(() -> {
                publisher.publish(cause, new NodeObservation.CommandFailed(nodeId, e.subject(), e.type(), 400,
                        ex.getMessage()));
                markProcessed(id);
            });
        }
        return handler.submit(command, e.type(), cause).whenComplete((ok, failure) -> {
            if (failure == null) {
                markProcessed(id);
            } else {
                inFlight.remove(id);
            }
        });
    }

    private void markProcessed(String id) {
        try {
            processed.add(id);
        } catch (java.io.IOException ex) {
            // the answer is durable; a redelivery would be answered again, which the control plane tolerates
            LOG.warnf("%s", ex.getMessage());
        } finally {
            inFlight.remove(id);
        }
    }

    private static UUID uuid(String id) {
        try {
            return UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            return UUID.nameUUIDFromBytes(id.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    /** Commits, per partition, up to the first command not done (or failed). */
    private void commitCompleted() {
        Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
        for (Map.Entry<TopicPartition, TreeMap<Long, CompletableFuture<Void>>> p : progress.entrySet()) {
            TreeMap<Long, CompletableFuture<Void>> m = p.getValue();
            Long last = null;
            while (!m.isEmpty()) {
                Map.Entry<Long, CompletableFuture<Void>> first = m.firstEntry();
                if (!first.getValue().isDone() || first.getValue().isCompletedExceptionally()) {
                    break;
                }
                last = first.getKey();
                m.pollFirstEntry();
            }
            if (last != null) {
                commits.put(p.getKey(), new OffsetAndMetadata(last + 1));
            }
        }
        if (!commits.isEmpty()) {
            try {
                consumer.commitSync(commits);
            } catch (RuntimeException e) {
                LOG.warnf("node commands: commit failed (%s); the commands will be delivered again and skipped",
                        e.toString());
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
