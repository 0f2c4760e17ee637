package dev.berth.node.agent;

import dev.berth.events.CloudEventHeaders;
import dev.berth.events.EventCodec;
import dev.berth.events.EventEnvelope;
import dev.berth.events.Topics;
import dev.berth.events.node.NodeCommand;
import dev.berth.events.node.NodeContainerSpec;
import dev.berth.events.node.NodeObservation;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;


/**
 * What the control plane would do, for tests: send node commands (CloudEvents binary mode, keyed by node) and read
 * the node's observations from {@code berth.nodes.events}.
 */
public final class AgentTestKit {
    private AgentTestKit() {
    }

    /** Creates both node topics (3 partitions) if they are missing. */
    public static void createTopics(String bootstrap) throws InterruptedException {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            for (String t : List.of(Topics.NODE_COMMANDS, Topics.NODES)) {
                try {
                    admin.createTopics(List.of(new NewTopic(t, 3, (short) 1))).all().get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException(e.getCause());
                    }
                }
            }
        }
    }

    /** Sends commands to nodes. */
    public static final class CommandBus implements AutoCloseable {
        private static final EventCodec<NodeCommand> CODEC = EventCodec.of(NodeCommand.class);
        private final KafkaProducer<String, byte[]> producer;

        public CommandBus(String bootstrap) {
            producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
        }

        /** Sends a command with a fresh id; returns the id. */
        public UUID send(NodeCommand c) {
            UUID id = UUID.randomUUID();
            send(c, id);
            return id;
        }

        /** Sends a command with the given id (the same id twice is a redelivery). */
        public void send(NodeCommand c, UUID id) {
            EventEnvelope e = new EventEnvelope(id.toString(), "/container-service", CODEC.typeOf(c), c.containerId(),
                    Instant.now(), "t1", 1, id, null, CODEC.encode(c));
            RecordHeaders h = new RecordHeaders();
            CloudEventHeaders.toHeaders(e).forEach(h::add);
            try {
                producer.send(new ProducerRecord<>(Topics.NODE_COMMANDS, null, c.nodeId(), CloudEventHeaders.toValue(e), h))
                        .get();
            } catch (InterruptedException | ExecutionException ex) {
                throw new IllegalStateException(ex);
            }
        }

        /** Sends a hand-made CloudEvent (a type or payload the node may not understand); returns its id. */
        public UUID sendRaw(String nodeId, String subject, String type, String json) {
            UUID id = UUID.randomUUID();
            EventEnvelope e = new EventEnvelope(id.toString(), "/container-service", type, subject, Instant.now(), "t1",
                    1, id, null, json);
            RecordHeaders h = new RecordHeaders();
            CloudEventHeaders.toHeaders(e).forEach(h::add);
            try {
                producer.send(new ProducerRecord<>(Topics.NODE_COMMANDS, null, nodeId, CloudEventHeaders.toValue(e), h))
                        .get();
            } catch (InterruptedException | ExecutionException ex) {
                throw new IllegalStateException(ex);
            }
            return id;
        }

        @Override
        public void close() {
            producer.close();
        }
    }

    /** One observation as read from Kafka: its envelope, record key and decoded payload. */
    public record Seen(EventEnvelope envelope, String key, NodeObservation payload) {
        public UUID causation() {
            return envelope.causationId();
        }
    }

    /** Reads every observation of the topic from its beginning, in the background. */
    public static final class Observations implements AutoCloseable {
        private static final EventCodec<NodeObservation> CODEC = EventCodec.of(NodeObservation.class);
        private final List<Seen> seen = new CopyOnWriteArrayList<>();
        private final Thread thread;
        private volatile boolean running = true;

        public Observations(String bootstrap) {
            KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ConsumerConfig.GROUP_ID_CONFIG, "agent-test-" + UUID.randomUUID(),
                    ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                    ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500),
                    new StringDeserializer(), new ByteArrayDeserializer());
            List<TopicPartition> parts = new ArrayList<>();
            // a topic created a moment ago may not be in the metadata yet: an empty answer would assign nothing
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> !c.partitionsFor(Topics.NODES).isEmpty());
            c.partitionsFor(Topics.NODES).forEach(p -> parts.add(new TopicPartition(p.topic(), p.partition())));
            c.assign(parts);
            c.seekToBeginning(parts);
            thread = new Thread(() -> {
                try (c) {
                    while (running) {
                        try {
                            for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(100))) {
                                Map<String, byte[]> h = new LinkedHashMap<>();
                                for (Header x : r.headers()) {
                                    h.put(x.key(), x.value());
                                }
                                EventEnvelope e = CloudEventHeaders.fromRecord(h, r.key(), r.value());
                                seen.add(new Seen(e, r.key(), CODEC.decode(e.type(), e.data())));
                            }
                        } catch (org.apache.kafka.common.errors.InterruptException e) {
                            return;
                        } catch (RuntimeException e) {
                            // broker away in a test that stops it: keep polling
                        }
                    }
                }
            }, "agent-test-observations");
            thread.setDaemon(true);
            thread.start();
        }

        /** How many observations of each type were seen, for failure messages. */
        public Map<String, Long> summary() {
            Map<String, Long> m = new java.util.TreeMap<>();
            seen.forEach(x -> m.merge(x.payload().getClass().getSimpleName(), 1L, Long::sum));
            return m;
        }

        /** Everything seen about one container (or node, for heartbeats), in order. */
        public List<Seen> of(String key) {
            return seen.stream().filter(s -> s.key().equals(key)).toList();
        }

        /** Waits for the first observation of a type about a container (or node) that matches. */
        public <T extends NodeObservation> Seen await(String key, Class<T> type, Predicate<T> match) {
            Seen[] found = new Seen[1];
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
                    .alias(type.getSimpleName() + " about " + key + " (seen so far: " + summary() + ")").until(() -> {
                for (Seen s : of(key)) {
                    if (type.isInstance(s.payload()) && match.test(type.cast(s.payload()))) {
                        found[0] = s;
                        return true;
                    }
                }
                return false;
            });
            return found[0];
        }

        public <T extends NodeObservation> Seen await(String key, Class<T> type) {
            return await(key, type, t -> true);
        }

        /** Waits for the answer to a command: the first observation about a key caused by it. */
        public Seen answer(String key, UUID commandId) {
            Seen[] found = new Seen[1];
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
                for (Seen s : of(key)) {
                    if (commandId.equals(s.causation())) {
                        found[0] = s;
                        return true;
                    }
                }
                return false;
            });
            return found[0];
        }

        @Override
        public void close() {
            running = false;
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A busybox container spec over the registry layer. */
    public static NodeContainerSpec busybox(String repository, NodeContainerSpec.Layer layer, List<String> cmd,
                                            String networkMode, boolean tty, boolean openStdin,
                                            NodeContainerSpec.RestartPolicy restart, boolean autoRemove) {
        return new NodeContainerSpec(new NodeContainerSpec.Image(repository, List.of(layer)), List.of(), cmd,
                List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), null, null, null, tty,
                openStdin, openStdin, null, Map.of("test", "agent"), null,
                new NodeContainerSpec.Network(networkMode, List.of()), null, null, null, false, false, false, false,
                null, null, 2, null, restart, autoRemove);
    }

    public static String newId() {
        return UUID.randomUUID().toString().replace("-", "") + UUID.randomUUID().toString().replace("-", "");
    }

    /** No directory, cgroup, network namespace or record of a removed container stays. */
    public static void assertNothingLeftOf(NodeAgent agent, String id) throws Exception {
        AgentSettings s = agent.settings();
        for (Path d : List.of(s.stateRoot().resolve("containers").resolve(id), s.runRoot().resolve("tasks").resolve(id),
                s.runRoot().resolve("containers").resolve(id), s.stateRoot().resolve("agent/containers/" + id + ".json"),
                s.runRoot().resolve("netns").resolve(id))) {
            assertThat(d).as("left behind").doesNotExist();
        }
        assertThat(agent.cgroups().find(id)).as("cgroup left").isNull();
        assertThat(agent.network().find(id)).as("network left").isNull();
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(id);
        assertThat(agent.runtime().list()).noneMatch(st -> st.id().equals(id));
    }
}
