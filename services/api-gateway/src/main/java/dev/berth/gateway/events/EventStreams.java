package dev.berth.gateway.events;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.events.Topics;
import dev.berth.gateway.config.GatewayConfig;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code GET /events}: checks a request's parameters and runs its {@link EventStream}.
 *
 * <p>Every stream has its own Kafka consumer and thread for as long as its client stays; nothing is shared between
 * streams, so a slow reader holds back only itself. Consumers are kept small (fetch sizes of a few hundred KB)
 * because the gateway runs with a small heap.
 */
@ApplicationScoped
public class EventStreams {

    /** The topics read, in the order used when two events carry the same time. */
    static final List<String> TOPICS = List.of(Topics.CONTAINERS, Topics.IMAGES, Topics.NETWORKS, Topics.VOLUMES);

    private final GatewayConfig.Events config;
    private final ObjectMapper json;
    private final AtomicInteger openConsumers = new AtomicInteger();
    private final AtomicLong counter = new AtomicLong();
    private final Set<EventStream> running = ConcurrentHashMap.newKeySet();
    private Admin admin;

    public EventStreams(GatewayConfig config, ObjectMapper json) {
        this.config = config.events();
        this.json = json;
    }

    /** A request that cannot be served: 400 with the message. */
    public static final class BadRequest extends IllegalArgumentException {
        BadRequest(String message) {
            super(message);
        }
    }

    /** The handle of a running stream. */
    public interface Handle {
        /** The client is gone: stop and release the consumer. Safe from any thread, more than once. */
        void cancel();
    }

    /**
     * Checks the parameters; the caller then sends the response head and calls {@link Prepared#start}.
     *
     * @param since   the {@code since} parameter or null
     * @param until   the {@code until} parameter or null
     * @param filters the {@code filters} parameter or null
     * @param tenant  the caller's tenant: only its events are shown
     * @throws BadRequest for a time or filter Docker would refuse, or {@code since} after {@code until}
     */
    public Prepared prepare(String since, String until, String filters, String tenant) {
        Instant now = Instant.now();
        Instant from;
        Instant to;
        EventFilter filter;
        try {
            from = EventTime.parse(since, now, ZoneId.systemDefault());
            to = EventTime.parse(until, now, ZoneId.systemDefault());
            filter = EventFilter.parse(filters);
        } catch (IllegalArgumentException e) {
            throw new BadRequest(e.getMessage());
        }
        if (from != null && to != null && to.isBefore(from)) {
            throw new BadRequest("`since` time (" + since + ") cannot be after `until` time (" + until + ")");
        }
        if (from == null) {
            // Live from the moment of the request, not from when the consumer happens to be positioned: the
            // response head goes out first, and an event appended right after the client saw it must not be lost.
            // With only a past until, dockerd replays what it has up to then; here that is everything kept.
            from = to != null && to.isBefore(now) ? Instant.EPOCH : now;
        }
        return new Prepared(new EventStream.Request(tenant, from, to, filter));
    }

    /** A checked request, ready to stream. */
    public final class Prepared {
        private final EventStream.Request request;

        private Prepared(EventStream.Request request) {
            this.request = request;
        }

        /** Starts reading on a thread of its own; events and the end go to the sink. */
        public Handle start(EventSink sink) {
            EventStream stream = new EventStream(EventStreams.this, request, sink, json, consumerConfig(), TOPICS);
            running.add(stream);
            Thread t = new Thread(stream, "berth-events-" + counter.incrementAndGet());
            t.setDaemon(true);
            t.start();
            return stream::cancel;
        }
    }

    private Map<String, Object> consumerConfig() {
        Map<String, Object> p = new HashMap<>();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "berth-gateway-events-" + counter.get());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        // the relay writes in transactions: an aborted, resent batch must not show twice or out of order
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 1024 * 1024);
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 256 * 1024);
        p.put(ConsumerConfig.RECEIVE_BUFFER_CONFIG, 64 * 1024);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100);
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) config.metadataTimeout().toMillis());
        return p;
    }

    /**
     * The partitions' high watermarks (read_uncommitted ends). A read_committed consumer's own end offsets stop at
     * the last stable offset, which stays below a transaction that has just committed until the broker has written
     * its markers; a stream bounded by it would take events committed a moment before the request for live ones.
     * Reading up to the high watermark waits for those markers instead (a read_committed consumer gets past every
     * decided transaction, and skips aborted ones).
     */
    Map<TopicPartition, Long> highWatermarks(Set<TopicPartition> partitions) {
        Map<TopicPartition, OffsetSpec> query = new HashMap<>();
        partitions.forEach(tp -> query.put(tp, OffsetSpec.latest()));
        Map<TopicPartition, Long> result = new HashMap<>();
        try {
            admin().listOffsets(query, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).all()
                    .get(config.metadataTimeout().toMillis(), TimeUnit.MILLISECONDS)
                    .forEach((tp, info) -> result.put(tp, info.offset()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new org.apache.kafka.common.errors.InterruptException(e);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new org.apache.kafka.common.errors.TimeoutException("cannot read the topics' end offsets: " + e.getMessage(), e);
        }
        return result;
    }

    private synchronized Admin admin() {
        if (admin == null) {
            Map<String, Object> p = new HashMap<>();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
            p.put(AdminClientConfig.CLIENT_ID_CONFIG, "berth-gateway-events-admin");
            p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) config.metadataTimeout().toMillis());
            p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) config.metadataTimeout().toMillis());
            admin = Admin.create(p);
        }
        return admin;
    }

    Duration seekMargin() {
        return config.seekMargin();
    }

    Duration metadataTimeout() {
        return config.metadataTimeout();
    }

    int dedupeWindow() {
        return Math.max(1, config.dedupeWindow());
    }

    void consumerOpened() {
        openConsumers.incrementAndGet();
    }

    void consumerClosed() {
        openConsumers.decrementAndGet();
    }

    void streamEnded(EventStream stream) {
        running.remove(stream);
    }

    /** Kafka consumers currently open for event streams (one per connected {@code docker events}). */
    public int openConsumers() {
        return openConsumers.get();
    }

    /** Event streams whose thread has not finished yet. */
    public int runningStreams() {
        return running.size();
    }

    synchronized void stop(@Observes ShutdownEvent event) {
        running.forEach(EventStream::cancel);
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
            admin = null;
        }
    }
}
