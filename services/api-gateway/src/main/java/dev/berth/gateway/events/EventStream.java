package dev.berth.gateway.events;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.events.CloudEventHeaders;
import dev.berth.events.EventEnvelope;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One {@code GET /events} response: a Kafka consumer of its own (no group, partitions assigned) on its own thread,
 * reading the event topics and writing the matching events of the caller's tenant as Docker messages.
 *
 * <p>History first, from {@code since} (the request's arrival when not given): each partition is read from the first
 * record published at {@code since} minus a margin up to the end it had when the request came, and the partitions'
 * records are merged
 * by {@code ce_time} (never reordering one partition). Then live records as they arrive, merged the same way among
 * what is at hand. With {@code until} the stream ends once that time has passed and the partitions are read to
 * their end at that moment. Redeliveries of the relay (same {@code ce_id}) are dropped.
 *
 * <p>The thread owns the consumer; {@link #cancel()} (client gone) wakes it and it closes the consumer.
 */
final class EventStream implements Runnable {

    private static final Logger LOG = Logger.getLogger(EventStream.class);
    /** A partition with this many records waiting is paused until the merge has taken most of them. */
    private static final int BUFFER_HIGH = 200;
    private static final int BUFFER_LOW = 50;
    private static final Duration TOPIC_RECHECK = Duration.ofSeconds(5);
    /**
     * How long reading towards the bounds may make no progress before they are given up: a transaction left open by a
     * producer that died keeps read_committed readers below it until the broker times it out.
     */
    private static final Duration BOUND_STALL = Duration.ofSeconds(30);

    /** What a request asked for. */
    record Request(String tenant, Instant since, Instant until, EventFilter filter) {
    }

    private final EventStreams owner;
    private final Request request;
    private final EventSink sink;
    private final ObjectMapper json;
    private final Map<String, Object> consumerConfig;
    private final List<String> topics;
    private volatile boolean cancelled;
    private volatile KafkaConsumer<String, byte[]> consumer;

    /** A record read but not yet merged, with its event time read once. */
    private record Pending(ConsumerRecord<String, byte[]> record, Instant time) {
        long offset() {
            return record.offset();
        }
    }

    private final Map<TopicPartition, ArrayDeque<Pending>> buffers = new LinkedHashMap<>();
    private final Set<TopicPartition> paused = new HashSet<>();
    /** While not null: partitions are read up to these offsets before anything after them is merged in. */
    private Map<TopicPartition, Long> bound;
    private Instant progress = Instant.now();
    private final LinkedHashSet<String> seen = new LinkedHashSet<>();

    EventStream(EventStreams owner, Request request, EventSink sink, ObjectMapper json, Map<String, Object> consumerConfig,
                List<String> topics) {
        this.owner = owner;
        this.request = request;
        this.sink = sink;
        this.json = json;
        this.consumerConfig = consumerConfig;
        this.topics = topics;
    }

    /** The client went away: stop reading and close the consumer. Any thread. */
    void cancel() {
        cancelled = true;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
    }

    @Override
    public void run() {
        boolean complete = false;
        KafkaConsumer<String, byte[]> c = null;
        try {
            c = new KafkaConsumer<>(consumerConfig);
            owner.consumerOpened();
            consumer = c;
            if (!cancelled) {
                complete = stream(c);
            }
        } catch (WakeupException | InterruptException e) {
            // cancelled: the client is gone
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            LOG.warnf("GET /events: Kafka at %s did not answer: %s", consumerConfig.get("bootstrap.servers"), e.getMessage());
        } catch (RuntimeException e) {
            LOG.warnf(e, "GET /events failed");
        } finally {
            if (c != null) {
                try {
                    c.close(Duration.ofSeconds(5));
                } catch (RuntimeException e) {
                    LOG.debugf(e, "closing an event stream's consumer");
                }
                owner.consumerClosed();
            }
            if (complete) {
                sink.end();
            } else if (!cancelled) {
                sink.abort();
            }
            owner.streamEnded(this);
        }
    }

    /** @return true when the stream reached {@code until}, false when cancelled */
    private boolean stream(KafkaConsumer<String, byte[]> c) {
        Set<TopicPartition> assigned = new HashSet<>(partitions(c));
        c.assign(assigned);
        // since is always set (the request's arrival when the client gave none): each partition is read from the
        // first record published at since minus the margin, and everything up to its present end is history
        Instant since = request.since();
        Map<TopicPartition, Long> query = new HashMap<>();
        long from = since.minus(owner.seekMargin()).toEpochMilli();
        assigned.forEach(tp -> query.put(tp, Math.max(0, from)));
        Map<TopicPartition, OffsetAndTimestamp> found = c.offsetsForTimes(query);
        Map<TopicPartition, Long> ends = owner.highWatermarks(assigned);
        Map<TopicPartition, Long> history = new HashMap<>();
        for (TopicPartition tp : assigned) {
            OffsetAndTimestamp at = found.get(tp);
            long end = ends.getOrDefault(tp, 0L);
            long start = at == null ? end : at.offset();
            c.seek(tp, start);
            if (start < end) {
                history.put(tp, end);
            }
        }
        bound = history.isEmpty() ? null : history;
        progress = Instant.now();
        boolean draining = false;
        Instant nextTopicCheck = Instant.now().plus(TOPIC_RECHECK);
        while (!cancelled) {
            if (!sink.open()) {
                // a client gone before its stream started misses the cancel; nobody reads any more either way
                cancelled = true;
                return false;
            }
            Instant now = Instant.now();
            Instant until = request.until();
            if (until != null && !draining && now.isAfter(until)) {
                draining = true;
                // the end as of until: what the relay had published by then is the stream's last part
                Map<TopicPartition, Long> last = owner.highWatermarks(assigned);
                Map<TopicPartition, Long> drain = new HashMap<>();
                for (TopicPartition tp : assigned) {
                    long end = last.getOrDefault(tp, 0L);
                    if (boundPosition(c, tp) < end) {
                        drain.put(tp, end);
                    }
                }
                if (bound != null) {
                    bound.forEach((tp, end) -> drain.merge(tp, end, Math::max));
                }
                bound = drain.isEmpty() ? null : drain;
            }
            if (draining && bound == null) {
                emit(true);
                return true;
            }
            if (awaitWritable()) {
                // time spent waiting for the client is no stall of Kafka's
                progress = Instant.now();
            }
            if (cancelled) {
                return false;
            }
            long wait = bound != null ? 200 : 500;
            if (until != null && !draining) {
                wait = Math.max(1, Math.min(wait, Duration.between(now, until).toMillis() + 1));
            }
            ConsumerRecords<String, byte[]> records;
            if (assigned.isEmpty()) {
                // none of the topics exists yet (a platform nothing has happened on): wait for them to appear
                sleep(wait);
                records = ConsumerRecords.empty();
            } else {
                records = c.poll(Duration.ofMillis(wait));
            }
            if (!records.isEmpty()) {
                progress = Instant.now();
            } else if (bound != null && Duration.between(progress, Instant.now()).compareTo(BOUND_STALL) > 0) {
                LOG.warnf("GET /events: partitions %s make no progress towards %s (a transaction left open?);"
                        + " going on without waiting for them", bound.keySet(), bound.values());
                bound = null;
            }
            for (ConsumerRecord<String, byte[]> r : records) {
                buffers.computeIfAbsent(new TopicPartition(r.topic(), r.partition()), k -> new ArrayDeque<>())
                        .add(new Pending(r, time(r)));
            }
            emit(false);
            flowControl(c);
            if (!draining && now.isAfter(nextTopicCheck)) {
                nextTopicCheck = now.plus(TOPIC_RECHECK);
                List<TopicPartition> added = new ArrayList<>();
                for (TopicPartition tp : partitions(c)) {
                    if (assigned.add(tp)) {
                        added.add(tp);
                    }
                }
                if (!added.isEmpty()) {
                    // a topic or partition that appeared after the request holds only newer events: all of them
                    c.assign(assigned);
                    c.seekToBeginning(added);
                }
            }
        }
        return false;
    }

    private List<TopicPartition> partitions(KafkaConsumer<String, byte[]> c) {
        Map<String, List<PartitionInfo>> all = c.listTopics(owner.metadataTimeout());
        List<TopicPartition> result = new ArrayList<>();
        for (String topic : topics) {
            List<PartitionInfo> infos = all.get(topic);
            if (infos != null) {
                infos.forEach(i -> result.add(new TopicPartition(topic, i.partition())));
            }
        }
        return result;
    }

    /** The offset below which a partition holds nothing unread: its first buffered record, else its position. */
    private long boundPosition(KafkaConsumer<String, byte[]> c, TopicPartition tp) {
        ArrayDeque<Pending> buffer = buffers.get(tp);
        if (buffer != null && !buffer.isEmpty()) {
            return buffer.peekFirst().offset();
        }
        return c.position(tp);
    }

    /**
     * Writes what can be written in time order. While bounded, a record goes out only when every partition that
     * still owes records below its bound has one at hand to compare with; once none owes any, the bound is lifted.
     *
     * @param all at the end of a stream: everything buffered goes out
     */
    private void emit(boolean all) {
        while (!cancelled) {
            if (bound != null && !all) {
                boolean waiting = false;
                for (Map.Entry<TopicPartition, Long> b : List.copyOf(bound.entrySet())) {
                    ArrayDeque<Pending> buffer = buffers.get(b.getKey());
                    boolean reached = buffer != null && !buffer.isEmpty()
                            ? buffer.peekFirst().offset() >= b.getValue()
                            : consumerPosition(b.getKey()) >= b.getValue();
                    if (reached) {
                        bound.remove(b.getKey());
                    } else if (buffer == null || buffer.isEmpty()) {
                        waiting = true;
                    }
                }
                if (bound.isEmpty()) {
                    bound = null;
                } else if (waiting) {
                    return;
                }
            }
            Pending next = null;
            TopicPartition from = null;
            for (Map.Entry<TopicPartition, ArrayDeque<Pending>> b : buffers.entrySet()) {
                Pending head = b.getValue().peekFirst();
                if (head == null) {
                    continue;
                }
                if (bound != null && !all) {
                    Long end = bound.get(b.getKey());
                    if (end == null || head.offset() >= end) {
                        // not owed: it waits until the merge below the bounds is done
                        continue;
                    }
                }
                if (next == null || head.time().isBefore(next.time())) {
                    next = head;
                    from = b.getKey();
                }
            }
            if (next == null) {
                return;
            }
            buffers.get(from).pollFirst();
            deliver(next.record());
        }
    }

    private long consumerPosition(TopicPartition tp) {
        return consumer.position(tp);
    }

    private static Instant time(ConsumerRecord<String, byte[]> r) {
        Header h = r.headers().lastHeader(CloudEventHeaders.TIME);
        if (h != null) {
            try {
                return Instant.parse(new String(h.value(), StandardCharsets.UTF_8));
            } catch (RuntimeException ignored) {
                // ordered by the record's own time then
            }
        }
        return Instant.ofEpochMilli(r.timestamp());
    }

    private void deliver(ConsumerRecord<String, byte[]> r) {
        Map<String, byte[]> headers = new HashMap<>();
        for (Header h : r.headers()) {
            headers.put(h.key(), h.value());
        }
        byte[] tenant = headers.get(CloudEventHeaders.TENANT);
        if (tenant == null || !request.tenant().equals(new String(tenant, StandardCharsets.UTF_8))) {
            return;
        }
        EventEnvelope e;
        try {
            e = CloudEventHeaders.fromRecord(headers, r.key(), r.value());
        } catch (IllegalArgumentException malformed) {
            LOG.debugf("GET /events skips %s-%d@%d: %s", r.topic(), r.partition(), r.offset(), malformed.getMessage());
            return;
        }
        if (!seen.add(e.id())) {
            return;
        }
        if (seen.size() > owner.dedupeWindow()) {
            seen.remove(seen.iterator().next());
        }
        Instant t = e.time() == null ? Instant.ofEpochMilli(r.timestamp()) : e.time();
        if (t.isBefore(request.since())
                || request.until() != null && t.isAfter(request.until())) {
            return;
        }
        for (DockerEvent event : EventTranslation.translate(e)) {
            if (request.filter().includes(event)) {
                try {
                    byte[] body = json.writeValueAsBytes(event.toJson());
                    byte[] line = new byte[body.length + 1];
                    System.arraycopy(body, 0, line, 0, body.length);
                    line[body.length] = '\n';
                    sink.event(line);
                } catch (Exception encode) {
                    LOG.warnf(encode, "GET /events cannot encode event %s", e.id());
                }
            }
        }
    }

    private void flowControl(KafkaConsumer<String, byte[]> c) {
        List<TopicPartition> pause = new ArrayList<>();
        List<TopicPartition> resume = new ArrayList<>();
        for (Map.Entry<TopicPartition, ArrayDeque<Pending>> b : buffers.entrySet()) {
            int size = b.getValue().size();
            if (size >= BUFFER_HIGH && paused.add(b.getKey())) {
                pause.add(b.getKey());
            } else if (size <= BUFFER_LOW && paused.remove(b.getKey())) {
                resume.add(b.getKey());
            }
        }
        if (!pause.isEmpty()) {
            c.pause(pause);
        }
        if (!resume.isEmpty()) {
            c.resume(resume);
        }
    }

    /**
     * A client that reads slowly holds the stream back instead of filling the gateway's memory.
     *
     * @return whether it had to wait
     */
    private boolean awaitWritable() {
        boolean waited = false;
        while (!cancelled && !sink.writable()) {
            waited = true;
            sleep(20);
        }
        return waited;
    }

    private void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancelled = true;
        }
    }
}
