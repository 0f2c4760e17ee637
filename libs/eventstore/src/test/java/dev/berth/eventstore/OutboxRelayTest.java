package dev.berth.eventstore;

import dev.berth.events.EventCodec;
import dev.berth.events.EventEnvelope;
import dev.berth.events.Topics;
import dev.berth.eventstore.sample.VolumeCommand;
import dev.berth.eventstore.sample.VolumeDecider;
import dev.berth.eventstore.sample.VolumeEvent;
import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.hibernate.reactive.mutiny.Mutiny;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@QuarkusTest
@WithTestResource(BerthTestResource.class)
class OutboxRelayTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Inject
    Aggregates aggregates;
    @Inject
    EventStore store;
    @Inject
    IdempotentConsumer consumer;
    @Inject
    Mutiny.SessionFactory sessions;
    @Inject
    Vertx vertx;
    @Inject
    Pool pool;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    private List<String> createVolumes(int count, int labelsEach) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String id = "vol-" + UUID.randomUUID();
            ids.add(id);
            var metadata = EventMetadata.of("acme");
            aggregates.handle("volume", id, VolumeDecider.INSTANCE, VolumeEvent.class,
                    new VolumeCommand.Create("v" + i, Map.of()), metadata).await().atMost(WAIT);
            for (int l = 0; l < labelsEach; l++) {
                aggregates.handle("volume", id, VolumeDecider.INSTANCE, VolumeEvent.class,
                        new VolumeCommand.Label("k" + l, "v"), metadata).await().atMost(WAIT);
            }
        }
        return ids;
    }

    private OutboxRelay.Builder relay(String source) {
        return OutboxRelay.builder().pool(pool).kafka(Map.of("bootstrap.servers", bootstrap)).source(source)
                .name(source.substring(1) + "-" + UUID.randomUUID());
    }

    private static void drain(OutboxRelay relay) {
        while (relay.publishOnce() > 0) {
            // until the relay is level with the committed log
        }
    }

    @Test
    void theServiceRelayPublishesCommittedEventsAsCloudEvents() {
        String id = createVolumes(1, 1).get(0);
        List<StoredEvent> stored = ReactiveContext.run(vertx, () -> sessions.withSession(s -> store.load(s, id)))
                .await().atMost(WAIT);

        List<EventEnvelope> received = TopicReader.awaitEnvelopes(bootstrap, Topics.VOLUMES, "/eventstore-test",
                id::equals, 2);

        assertThat(received).extracting(EventEnvelope::sequence).containsExactly(1L, 2L);
        EventEnvelope created = received.get(0);
        assertThat(created.id()).isEqualTo(stored.get(0).id().toString());
        assertThat(created.type()).isEqualTo("dev.berth.volume.created.v1");
        assertThat(created.subject()).isEqualTo(id);
        assertThat(created.tenant()).isEqualTo("acme");
        assertThat(created.correlationId()).isEqualTo(stored.get(0).correlationId());
        assertThat(created.time()).isEqualTo(stored.get(0).time());
        assertThat(created.payload(EventCodec.of(VolumeEvent.class)))
                .isEqualTo(new VolumeEvent.Created("v0", Map.of()));
        var raw = TopicReader.readAll(bootstrap, Topics.VOLUMES).stream()
                .filter(r -> id.equals(r.key())).findFirst().orElseThrow();
        assertThat(new String(raw.headers().lastHeader("ce_specversion").value())).isEqualTo("1.0");
        assertThat(new String(raw.headers().lastHeader("content-type").value())).isEqualTo("application/json");
    }

    @Test
    void aCrashBetweenPublishAndCursorRepublishesAndTheConsumerAppliesEachEventOnce() {
        List<String> ids = createVolumes(3, 2);
        Set<String> ours = Set.copyOf(ids);
        String source = "/crash-test";
        String name = "crash-" + UUID.randomUUID();

        // The relay dies after Kafka acknowledged the first batch holding our events, before its cursor moved.
        List<StoredEvent> crashedBatch = new ArrayList<>();
        try (OutboxRelay crashing = relay(source).name(name).afterPublish(batch -> {
            if (batch.stream().anyMatch(e -> ours.contains(e.aggregateId()))) {
                crashedBatch.addAll(batch);
                throw new IllegalStateException("relay died after the send");
            }
        }).build()) {
            assertThatThrownBy(() -> drain(crashing)).hasMessageContaining("relay died");
        }
        try (OutboxRelay restarted = relay(source).name(name).build()) {
            drain(restarted);
        }
        Set<String> sentTwice = crashedBatch.stream().filter(e -> ours.contains(e.aggregateId()))
                .map(e -> e.id().toString()).collect(Collectors.toSet());
        assertThat(sentTwice).isNotEmpty();

        List<EventEnvelope> delivered = TopicReader.awaitEnvelopes(bootstrap, Topics.VOLUMES, source,
                ours::contains, 9 + sentTwice.size());
        Map<String, Long> copies = delivered.stream()
                .collect(Collectors.groupingBy(EventEnvelope::id, Collectors.counting()));
        assertThat(copies).hasSize(9);
        copies.forEach((id, n) -> assertThat(n).as("copies of %s", id).isEqualTo(sentTwice.contains(id) ? 2L : 1L));

        List<Boolean> applied = new ArrayList<>();
        for (EventEnvelope e : delivered) {
            applied.add(consumer.processOnce("effects", e, (session, event) -> session
                    .createNativeQuery("INSERT INTO test_consumer_effects (event_id, aggregate_id, version)"
                            + " VALUES (?1, ?2, ?3)")
                    .setParameter(1, event.id()).setParameter(2, event.subject())
                    .setParameter(3, event.sequence())
                    .executeUpdate()).await().atMost(WAIT));
        }

        assertThat(applied).filteredOn(Boolean::booleanValue).hasSize(9);
        List<Row> effects = new ArrayList<>();
        pool.preparedQuery("SELECT event_id, aggregate_id, version FROM test_consumer_effects"
                        + " WHERE aggregate_id = ANY($1) ORDER BY seq")
                .execute(Tuple.of(ids.toArray(String[]::new))).await().atMost(WAIT).forEach(effects::add);
        assertThat(effects).hasSize(9);
        assertThat(effects.stream().map(r -> r.getString(0)).distinct()).hasSize(9);
        assertThat(effects.stream().map(r -> r.getString(1) + "@" + r.getLong(2)).collect(Collectors.toSet()))
                .hasSize(9);
    }

    @Test
    void aFailedConsumerEffectLeavesTheMessageToBeProcessedAgain() {
        String messageId = "msg-" + UUID.randomUUID();
        Function<Mutiny.Session, io.smallrye.mutiny.Uni<?>> failing = s -> s
                .createNativeQuery("INSERT INTO test_consumer_effects (event_id, aggregate_id, version)"
                        + " VALUES (?1, 'x', 1)")
                .setParameter(1, messageId).executeUpdate()
                .chain(() -> io.smallrye.mutiny.Uni.createFrom().failure(new IllegalStateException("boom")));
        assertThatThrownBy(() -> consumer.processOnce("retrying", messageId, failing).await().atMost(WAIT))
                .hasMessageContaining("boom");

        boolean applied = consumer.processOnce("retrying", messageId, s -> s
                .createNativeQuery("INSERT INTO test_consumer_effects (event_id, aggregate_id, version)"
                        + " VALUES (?1, 'x', 1)")
                .setParameter(1, messageId).executeUpdate()).await().atMost(WAIT);
        boolean again = consumer.processOnce("retrying", messageId, s -> s
                .createNativeQuery("INSERT INTO test_consumer_effects (event_id, aggregate_id, version)"
                        + " VALUES (?1, 'x', 1)")
                .setParameter(1, messageId).executeUpdate()).await().atMost(WAIT);

        assertThat(applied).isTrue();
        assertThat(again).isFalse();
        assertThat(pool.preparedQuery("SELECT count(*) FROM test_consumer_effects WHERE event_id = $1")
                .execute(Tuple.of(messageId)).await().atMost(WAIT).iterator().next().getLong(0)).isEqualTo(1);
    }

    @Test
    void theRelayNeverSkipsATransactionThatCommitsLate() throws Exception {
        String source = "/late-test";
        List<StoredEvent> published = Collections.synchronizedList(new ArrayList<>());
        try (OutboxRelay relay = relay(source).afterPublish(published::addAll).build()) {
            drain(relay);
            published.clear();

            String lateId = "vol-late-" + UUID.randomUUID();
            String earlyId = "vol-early-" + UUID.randomUUID();
            CompletableFuture<Void> release = new CompletableFuture<>();
            CompletableFuture<StoredEvent> lateAppended = new CompletableFuture<>();
            CompletableFuture<List<StoredEvent>> late = ReactiveContext.run(vertx, () -> sessions.withTransaction(s ->
                    store.append(s, "volume", lateId, 0, List.of(new NewEvent("dev.berth.volume.created.v1",
                                    new VolumeEvent.Created("late", Map.of()))), EventMetadata.of("acme"))
                            .invoke(stored -> lateAppended.complete(stored.get(0)))
                            .call(() -> Latches.awaitRelease(release)))).subscribeAsCompletionStage();
            StoredEvent lateEvent = lateAppended.get(30, TimeUnit.SECONDS);

            StoredEvent earlyEvent = ReactiveContext.run(vertx, () -> sessions.withTransaction(s ->
                    store.append(s, "volume", earlyId, 0, List.of(new NewEvent("dev.berth.volume.created.v1",
                            new VolumeEvent.Created("early", Map.of()))), EventMetadata.of("acme"))))
                    .await().atMost(WAIT).get(0);
            // The trap: the committed event sits after the uncommitted one, so a position cursor would pass it.
            assertThat(earlyEvent.position()).isGreaterThan(lateEvent.position());

            drain(relay);
            assertThat(published).extracting(StoredEvent::id).doesNotContain(lateEvent.id(), earlyEvent.id());

            release.complete(null);
            late.get(30, TimeUnit.SECONDS);
            drain(relay);

            assertThat(published).extracting(StoredEvent::id).containsSubsequence(lateEvent.id(), earlyEvent.id());
            List<EventEnvelope> onKafka = TopicReader.awaitEnvelopes(bootstrap, Topics.VOLUMES, source,
                    Set.of(lateId, earlyId)::contains, 2);
            assertThat(onKafka).extracting(EventEnvelope::subject).containsExactlyInAnyOrder(lateId, earlyId);
        }
    }

    @Test
    void theRelayOrdersTransactionsByNumberNotByText() {
        List<StoredEvent> published = Collections.synchronizedList(new ArrayList<>());
        try (OutboxRelay relay = relay("/xid-test").batchSize(1).afterPublish(published::addAll).build()) {
            drain(relay);
            published.clear();
            String before = "vol-before-" + UUID.randomUUID();
            String after = "vol-after-" + UUID.randomUUID();
            appendCreated(before);
            // Move the transaction counter past the next power of ten: 999 < 1000 as numbers, not as text.
            long xid = pool.query("SELECT pg_current_xact_id()::text::bigint").execute().await().atMost(WAIT)
                    .iterator().next().getLong(0);
            long burn = (long) Math.pow(10, Long.toString(xid).length()) - xid + 1;
            pool.query("DO $$ BEGIN FOR i IN 1.." + burn + " LOOP BEGIN"
                    + " INSERT INTO test_xid_burn VALUES (i); RAISE EXCEPTION 'undo';"
                    + " EXCEPTION WHEN raise_exception THEN NULL; END; END LOOP; END $$").execute().await()
                    .atMost(Duration.ofMinutes(2));
            appendCreated(after);

            drain(relay);

            assertThat(published).extracting(StoredEvent::aggregateId).containsExactly(before, after);
        }
    }

    private void appendCreated(String id) {
        ReactiveContext.run(vertx, () -> sessions.withTransaction(s -> store.append(s, "volume", id, 0,
                List.of(new NewEvent("dev.berth.volume.created.v1", new VolumeEvent.Created(id, Map.of()))),
                EventMetadata.of("acme")))).await().atMost(WAIT);
    }

    @Test
    void aKafkaConsumerAppliesEachEventOnceAlthoughItIsDeliveredTwice() {
        String id = createVolumes(1, 1).get(0);
        TopicReader.awaitEnvelopes(bootstrap, Topics.VOLUMES, "/eventstore-test", id::equals, 2);
        // A second relay with a fresh cursor publishes the whole log again: the same event ids, once more.
        try (OutboxRelay again = relay("/republish-test").build()) {
            drain(again);
        }
        TopicReader.awaitEnvelopes(bootstrap, Topics.VOLUMES, "/republish-test", id::equals, 2);
        awaitConsumed("eventstore-test-incoming");

        List<Row> effects = new ArrayList<>();
        pool.preparedQuery("SELECT event_id, version FROM test_incoming_effects WHERE aggregate_id = $1 ORDER BY seq")
                .execute(Tuple.of(id)).await().atMost(WAIT).forEach(effects::add);
        assertThat(effects).extracting(r -> r.getLong(1)).containsExactly(1L, 2L);
    }

    /** Waits until the consumer group has committed everything the topic holds now. */
    private void awaitConsumed(String group) {
        try (var admin = org.apache.kafka.clients.admin.Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            var partitions = TopicReader.readAll(bootstrap, Topics.VOLUMES).stream()
                    .collect(Collectors.groupingBy(r -> new org.apache.kafka.common.TopicPartition(r.topic(),
                            r.partition()), Collectors.summarizingLong(r -> r.offset() + 1)));
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> {
                var committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                        .get(10, TimeUnit.SECONDS);
                return partitions.entrySet().stream().allMatch(p -> committed.get(p.getKey()) != null
                        && committed.get(p.getKey()).offset() >= p.getValue().getMax());
            });
        }
    }
}
