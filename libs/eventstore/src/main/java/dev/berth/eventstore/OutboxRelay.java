package dev.berth.eventstore;

import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/**
 * Publishes committed events from the {@code events} table to Kafka, in commit order, and remembers how far it got.
 *
 * <p>Each batch: take the cursor's advisory lock (so of several instances sharing a cursor only one publishes),
 * read the next events after the cursor that belong to transactions older than every running one
 * ({@code tx_id < pg_snapshot_xmin(pg_current_snapshot())}, in {@code (tx_id, position)} order), send them with an
 * idempotent, transactional producer (acks=all, one Kafka transaction per batch), wait for the commit, and only then
 * move the cursor. Consumers read with {@code isolation.level=read_committed}. A failure anywhere
 * leaves the cursor where it was: the batch is sent again later (at least once; consumers deduplicate by event id),
 * never skipped. The relay holds no transaction id while it waits for Kafka, so it never holds back other relays.
 *
 * <p>Blocking by design: it runs on its own thread ({@link #start()}) or in the caller's ({@link #publishOnce()}).
 */
public final class OutboxRelay implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);
    private static final Duration DB_TIMEOUT = Duration.ofSeconds(30);

    // A session advisory lock, not a row lock: a row lock would give the relay a transaction id for the whole send,
    // and every relay on the cluster would then see pg_snapshot_xmin held back by it.
    private static final String LOCK_PREFIX = "berth.outbox-relay.";
    private static final String TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended($1, 0))";
    private static final String UNLOCK = "SELECT pg_advisory_unlock(hashtextextended($1, 0))";
    private static final String READ_CURSOR =
            "SELECT tx_id::text AS tx_text, position FROM outbox_cursor WHERE relay = $1";
    // The text copy of tx_id gets its own name and ORDER BY qualifies the column: an unqualified "tx_id" in ORDER BY
    // would name the text output column and sort 1002 before 773, passing the cursor over whole transactions.
    private static final String NEXT_EVENTS = "SELECT " + PgEventStore.COLUMNS + ", e.tx_id::text AS tx_text"
            + " FROM events e"
            + " WHERE (e.tx_id, e.position) > (cast($1 as text)::xid8, $2)"
            + " AND e.tx_id < pg_snapshot_xmin(pg_current_snapshot())"
            + " ORDER BY e.tx_id, e.position LIMIT $3";
    private static final String MOVE_CURSOR = "UPDATE outbox_cursor SET tx_id = cast($2 as text)::xid8,"
            + " position = $3, updated_at = clock_timestamp() WHERE relay = $1";

    /** Called after Kafka acknowledged a batch and before the cursor moves; lets a test crash the relay there. */
    @FunctionalInterface
    public interface AfterPublish {
        void published(List<StoredEvent> batch);
    }

    private final Pool pool;
    private final Map<String, Object> producerConfig;
    private final String source;
    private final String name;
    private final int batchSize;
    private final Duration pollInterval;
    private final Duration maxBackoff;
    private final AfterPublish afterPublish;

    private KafkaProducer<String, byte[]> producer;
    private boolean cursorEnsured;
    private volatile boolean running;
    private Thread thread;

    private OutboxRelay(Builder b) {
        this.pool = Objects.requireNonNull(b.pool, "pool");
        this.source = Objects.requireNonNull(b.source, "source");
        this.name = b.name;
        this.batchSize = b.batchSize;
        this.pollInterval = b.pollInterval;
        this.maxBackoff = b.maxBackoff;
        this.afterPublish = b.afterPublish;
        Map<String, Object> config = new HashMap<>(b.kafka);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        config.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "berth-relay-" + source.replace("/", "") + "-" + name);
        // One transactional id per cursor: a restarted or second instance fences the previous producer.
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "berth-relay-" + source.replace("/", "") + "-" + name);
        config.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
        long delivery = b.deliveryTimeout.toMillis();
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) delivery);
        // Kafka requires delivery.timeout.ms >= linger.ms + request.timeout.ms.
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(delivery / 2, 10_000));
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Math.min(delivery / 2, 10_000));
        config.remove("group.id");
        this.producerConfig = Map.copyOf(config);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Publishes the next batch of committed events and moves the cursor past them.
     *
     * @return how many events were published (0: nothing to do, or another instance holds the cursor)
     * @throws RuntimeException if the database or Kafka failed; nothing was skipped, the same events come next time
     */
    public synchronized int publishOnce() {
        SqlConnection conn = pool.getConnection().await().atMost(DB_TIMEOUT);
        try {
            if (!cursorEnsured) {
                conn.preparedQuery("INSERT INTO outbox_cursor (relay) VALUES ($1) ON CONFLICT DO NOTHING")
                        .execute(Tuple.of(name)).await().atMost(DB_TIMEOUT);
                cursorEnsured = true;
            }
            boolean locked = conn.preparedQuery(TRY_LOCK).execute(Tuple.of(LOCK_PREFIX + name))
                    .await().atMost(DB_TIMEOUT).iterator().next().getBoolean(0);
            if (!locked) {
                return 0;
            }
            try {
                return publishBatch(conn);
            } finally {
                conn.preparedQuery(UNLOCK).execute(Tuple.of(LOCK_PREFIX + name)).await().atMost(DB_TIMEOUT);
            }
        } finally {
            conn.close().await().atMost(DB_TIMEOUT);
        }
    }

    private int publishBatch(SqlConnection conn) {
        RowSet<Row> cursor = conn.preparedQuery(READ_CURSOR).execute(Tuple.of(name)).await().atMost(DB_TIMEOUT);
        Row c = cursor.iterator().next();
        RowSet<Row> rows = conn.preparedQuery(NEXT_EVENTS)
                .execute(Tuple.of(c.getString(0), c.getLong(1), batchSize)).await().atMost(DB_TIMEOUT);
        if (rows.size() == 0) {
            return 0;
        }
        LOG.debugf("relay %s: cursor (%s, %d), %d events to publish", name, c.getString(0), c.getLong(1), rows.size());
        List<StoredEvent> batch = new ArrayList<>(rows.size());
        String lastTx = null;
        long lastPosition = 0;
        for (Row r : rows) {
            batch.add(new StoredEvent(r.getUUID(0), r.getLong(1), r.getString(2), r.getString(3), r.getLong(4),
                    r.getString(5), r.getString(6), r.getString(7), r.getUUID(8), r.getUUID(9),
                    r.getOffsetDateTime(10).toInstant()));
            lastTx = r.getString(11);
            lastPosition = r.getLong(1);
        }
        send(batch);
        if (afterPublish != null) {
            afterPublish.published(List.copyOf(batch));
        }
        conn.preparedQuery(MOVE_CURSOR).execute(Tuple.of(name, lastTx, lastPosition)).await().atMost(DB_TIMEOUT);
        LOG.debugf("relay %s: published %d events, cursor now (%s, %d)", name, batch.size(), lastTx, lastPosition);
        return batch.size();
    }

    private void send(List<StoredEvent> batch) {
        KafkaProducer<String, byte[]> p = producer();
        List<Future<RecordMetadata>> acks = new ArrayList<>(batch.size());
        try {
            // One Kafka transaction per batch: if Kafka fails half-way (a partition's records expire while another's
            // are written), the transaction aborts and read_committed consumers never see the part that got through,
            // so a resent batch cannot put version 5 of an aggregate before version 1.
            p.beginTransaction();
            for (StoredEvent e : batch) {
                acks.add(p.send(KafkaEvents.record(e, source)));
            }
            p.commitTransaction();
            for (Future<RecordMetadata> ack : acks) {
                ack.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            discardProducer();
            throw new IllegalStateException("relay interrupted while publishing", e);
        } catch (ExecutionException e) {
            discardProducer();
            throw new IllegalStateException("Kafka did not acknowledge the batch: " + e.getCause().getMessage(),
                    e.getCause());
        } catch (RuntimeException e) {
            // A fresh producer after any failure: the next one's initTransactions() fences this one and aborts
            // whatever it left open.
            discardProducer();
            throw new IllegalStateException("Kafka did not take the batch: " + e.getMessage(), e);
        }
    }

    private KafkaProducer<String, byte[]> producer() {
        if (producer == null) {
            KafkaProducer<String, byte[]> p = new KafkaProducer<>(producerConfig);
            try {
                p.initTransactions();
            } catch (RuntimeException e) {
                p.close(Duration.ZERO);
                throw e;
            }
            producer = p;
        }
        return producer;
    }

    private void discardProducer() {
        if (producer != null) {
            try {
                producer.close(Duration.ZERO);
            } catch (RuntimeException e) {
                LOG.debug("closing the failed producer", e);
            }
            producer = null;
        }
    }

    /** Starts publishing continuously on a dedicated thread until {@link #close()}. */
    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        thread = new Thread(this::loop, "berth-outbox-relay-" + name);
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        int failures = 0;
        while (running) {
            try {
                int published = publishOnce();
                if (failures > 0) {
                    LOG.infof("outbox relay %s publishes again", name);
                }
                failures = 0;
                if (published < batchSize) {
                    sleep(pollInterval);
                }
            } catch (RuntimeException | Error e) {
                if (!running) {
                    break;
                }
                failures++;
                if (failures == 1 || failures % 20 == 0) {
                    Throwable cause = e.getCause() == null ? e : e.getCause();
                    LOG.warnf("outbox relay %s could not publish (attempt %d, will retry): %s (%s)", name, failures,
                            e.getMessage(), cause.getMessage());
                }
                long backoff = Math.min(maxBackoff.toMillis(), pollInterval.toMillis() << Math.min(failures, 10));
                sleep(Duration.ofMillis(backoff));
            }
        }
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(Math.max(1, d.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** Whether the loop is running. */
    public boolean isRunning() {
        return running;
    }

    /** Stops the loop (waiting for the batch in flight) and closes the producer. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            running = false;
            t = thread;
            thread = null;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(Duration.ofSeconds(30).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            if (producer != null) {
                producer.close(Duration.ofSeconds(5));
                producer = null;
            }
        }
    }

    /** Builds a relay; pool, Kafka config and source are required. */
    public static final class Builder {
        private Pool pool;
        private final Map<String, Object> kafka = new HashMap<>();
        private String source;
        private String name = "default";
        private int batchSize = 500;
        private Duration pollInterval = Duration.ofMillis(200);
        private Duration maxBackoff = Duration.ofSeconds(5);
        private Duration deliveryTimeout = Duration.ofSeconds(30);
        private AfterPublish afterPublish;

        public Builder pool(Pool pool) {
            this.pool = pool;
            return this;
        }

        /** Kafka client properties (at least {@code bootstrap.servers}); the relay forces acks=all and idempotence. */
        public Builder kafka(Map<String, ?> config) {
            this.kafka.putAll(config);
            return this;
        }

        /** CloudEvents source, {@code /<service>}. */
        public Builder source(String source) {
            this.source = source.startsWith("/") ? source : "/" + source;
            return this;
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder batchSize(int batchSize) {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be positive");
            }
            this.batchSize = batchSize;
            return this;
        }

        public Builder pollInterval(Duration pollInterval) {
            this.pollInterval = pollInterval;
            return this;
        }

        public Builder maxBackoff(Duration maxBackoff) {
            this.maxBackoff = maxBackoff;
            return this;
        }

        public Builder deliveryTimeout(Duration deliveryTimeout) {
            this.deliveryTimeout = deliveryTimeout;
            return this;
        }

        public Builder afterPublish(AfterPublish afterPublish) {
            this.afterPublish = afterPublish;
            return this;
        }

        public OutboxRelay build() {
            return new OutboxRelay(this);
        }
    }
}
