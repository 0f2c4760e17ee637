package dev.berth.node.messaging;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Sends the outbox to Kafka in order (idempotent producer, acks=all) and acknowledges what the broker confirmed.
 * While Kafka is unreachable it retries every second with a fresh producer; nothing is dropped. Records sent before
 * a failure may be sent again after it (consumers deduplicate by {@code ce_id}).
 *
 * <p>Besides the outbox it carries one transient record at a time (the latest heartbeat), sent only when the outbox
 * is empty and dropped when a newer one replaces it: a heartbeat from while Kafka was down tells nobody anything.
 */
public final class OutboxRelay implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);
    private static final int BATCH = 200;

    private final Outbox outbox;
    private final Map<String, Object> producerConfig;
    private final AtomicReference<Outbox.Draft> transientRecord = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile String lastError;
    private Producer<String, byte[]> producer;

    /**
     * @param bootstrapServers Kafka's {@code bootstrap.servers}
     * @param clientId         the producer's client id (the node id makes broker logs readable)
     */
    public OutboxRelay(Outbox outbox, String bootstrapServers, String clientId) {
        this.outbox = outbox;
        this.producerConfig = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.CLIENT_ID_CONFIG, clientId,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5,
                ProducerConfig.LINGER_MS_CONFIG, 0,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 5000,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15000,
                ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
        this.thread = new Thread(this::run, "berth-outbox-relay");
        thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** Wakes the relay after an append. */
    public void wake() {
        synchronized (outbox) {
            outbox.notifyAll();
        }
    }

    /** Replaces the transient record (the latest heartbeat). */
    public void offerTransient(Outbox.Draft draft) {
        transientRecord.set(draft);
        wake();
    }

    /** The last send failure, or null once sending works again. */
    public String lastError() {
        return lastError;
    }

    private void run() {
        while (running) {
            try {
                if (!outbox.awaitPending(transientRecord.get() == null ? 500 : 0)) {
                    Outbox.Draft t = transientRecord.getAndSet(null);
                    if (t != null) {
                        sendTransient(t);
                    }
                    continue;
                }
                List<Outbox.Entry> batch = outbox.pending(BATCH);
                long acked = send(batch);
                if (acked > 0) {
                    outbox.acknowledge(acked);
                }
                if (acked < batch.get(batch.size() - 1).seq()) {
                    backOff();
                } else {
                    lastError = null;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                lastError = e.toString();
                LOG.warnf("outbox relay: %s", e.toString());
                resetProducer();
                try {
                    backOff();
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    private void backOff() throws InterruptedException {
        if (running) {
            Thread.sleep(1000);
        }
    }

    /** Sends a batch; returns the highest sequence of the unbroken prefix the broker acknowledged (0 if none). */
    private long send(List<Outbox.Entry> batch) {
        Producer<String, byte[]> p = producer();
        List<Future<RecordMetadata>> futures = new ArrayList<>();
        try {
            for (Outbox.Entry e : batch) {
                futures.add(p.send(record(e.topic(), e.key(), e.headers(), e.value())));
            }
            p.flush();
        } catch (RuntimeException e) {
            lastError = e.toString();
            LOG.warnf("outbox relay: sending failed (%s); %d observations wait in the outbox", e, outbox.pendingCount());
        }
        long acked = 0;
        for (int i = 0; i < futures.size(); i++) {
            try {
                futures.get(i).get(30, TimeUnit.SECONDS);
                acked = batch.get(i).seq();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Exception e) {
                lastError = e.toString();
                LOG.warnf("outbox relay: Kafka did not take observation %d (%s); retrying", batch.get(i).seq(),
                        e.getMessage());
                resetProducer();
                break;
            }
        }
        if (futures.size() < batch.size()) {
            resetProducer(); // send itself failed: start over with a fresh producer
        }
        return acked;
    }

    private void sendTransient(Outbox.Draft d) {
        try {
            producer().send(record(d.topic(), d.key(), d.headers(), d.value())).get(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            lastError = e.toString();
            LOG.debugf("heartbeat not sent: %s", e.toString());
            resetProducer();
        }
    }

    private static ProducerRecord<String, byte[]> record(String topic, String key, Map<String, String> headers,
                                                         String value) {
        RecordHeaders h = new RecordHeaders();
        headers.forEach((k, v) -> h.add(k, v.getBytes(StandardCharsets.UTF_8)));
        return new ProducerRecord<>(topic, null, key, value.getBytes(StandardCharsets.UTF_8), h);
    }

    private Producer<String, byte[]> producer() {
        if (producer == null) {
            producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer());
        }
        return producer;
    }

    private void resetProducer() {
        if (producer != null) {
            try {
                producer.close(java.time.Duration.ZERO);
            } catch (RuntimeException ignored) {
                // it is being replaced
            }
            producer = null;
        }
    }

    /** Stops the relay; records still pending stay in the outbox for the next start. */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        resetProducer();
    }
}
