package dev.berth.eventstore;

import dev.berth.events.EventEnvelope;
import dev.berth.events.Topics;
import dev.berth.eventstore.sample.VolumeEvent;
import dev.berth.testing.BerthTestResource;
import dev.berth.testing.KafkaBroker;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import org.hibernate.reactive.mutiny.Mutiny;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@QuarkusTest
@WithTestResource(BerthTestResource.class)
class KafkaDownTest {
    private static final int AGGREGATES = 20;
    private static final int EVENTS_EACH = 50;

    @Inject
    EventStore store;
    @Inject
    Mutiny.SessionFactory sessions;
    @Inject
    Vertx vertx;
    @Inject
    Pool pool;

    @Test
    void eventsAppendedWhileKafkaIsDownAllArriveOnceInOrderWhenItIsBack() {
        KafkaBroker broker = KafkaBroker.startLocal();
        String name = "down-" + UUID.randomUUID();
        try (OutboxRelay relay = OutboxRelay.builder().pool(pool)
                .kafka(Map.of("bootstrap.servers", broker.bootstrapServers()))
                .source("/down-test").name(name).batchSize(200)
                .pollInterval(Duration.ofMillis(50)).maxBackoff(Duration.ofSeconds(1))
                .deliveryTimeout(Duration.ofSeconds(5)).build()) {
            relay.start();
            // Kafka works at first: the relay catches up with the log (and the topic exists), then Kafka goes down.
            long before = pool.query("SELECT coalesce(max(position), 0) FROM events").execute()
                    .await().atMost(Duration.ofSeconds(30)).iterator().next().getLong(0);
            await().atMost(Duration.ofSeconds(60)).until(() -> cursor(name) >= before);
            broker.stop();

            List<String> ids = new ArrayList<>();
            for (int a = 0; a < AGGREGATES; a++) {
                ids.add("vol-down-" + a + "-" + UUID.randomUUID());
            }
            // Ten events per transaction, aggregates interleaved, as a busy service would write them.
            for (int from = 0; from < EVENTS_EACH; from += 10) {
                long expected = from;
                for (String id : ids) {
                    List<NewEvent> events = LongStream.range(0, 10).mapToObj(i -> new NewEvent(
                            "dev.berth.volume.labelled.v1", new VolumeEvent.Labelled("k" + (expected + i), "v")))
                            .toList();
                    ReactiveContext.run(vertx, () -> sessions.withTransaction(s ->
                            store.append(s, "volume", id, expected, events, EventMetadata.of("acme"))))
                            .await().atMost(Duration.ofSeconds(30));
                }
            }
            long firstOfOurs = pool.preparedQuery("SELECT min(position) FROM events WHERE aggregate_id = ANY($1)")
                    .execute(Tuple.of(ids.toArray(String[]::new))).await().atMost(Duration.ofSeconds(30))
                    .iterator().next().getLong(0);
            assertThat(relay.isRunning()).isTrue();
            assertThat(cursor(name)).as("nothing is marked published while Kafka is down").isLessThan(firstOfOurs);

            broker.start();

            Set<String> ours = Set.copyOf(ids);
            await().atMost(Duration.ofSeconds(120)).until(() -> TopicReader.envelopes(broker.bootstrapServers(),
                    Topics.VOLUMES, "/down-test", ours::contains).size() >= AGGREGATES * EVENTS_EACH);
            long lastOfOurs = pool.preparedQuery("SELECT max(position) FROM events WHERE aggregate_id = ANY($1)")
                    .execute(Tuple.of(ids.toArray(String[]::new))).await().atMost(Duration.ofSeconds(30))
                    .iterator().next().getLong(0);
            await().atMost(Duration.ofSeconds(60)).until(() -> cursor(name) >= lastOfOurs);

            List<EventEnvelope> received = TopicReader.envelopes(broker.bootstrapServers(), Topics.VOLUMES,
                    "/down-test", ours::contains);
            assertThat(received).hasSize(AGGREGATES * EVENTS_EACH);
            assertThat(received.stream().map(EventEnvelope::id).distinct()).hasSize(AGGREGATES * EVENTS_EACH);
            Map<String, List<Long>> sequences = received.stream().collect(Collectors.groupingBy(
                    EventEnvelope::subject, LinkedHashMap::new,
                    Collectors.mapping(EventEnvelope::sequence, Collectors.toList())));
            List<Long> oneToFifty = LongStream.rangeClosed(1, EVENTS_EACH).boxed().toList();
            assertThat(sequences).hasSize(AGGREGATES);
            sequences.forEach((id, seq) -> assertThat(seq).as("versions of %s in arrival order", id)
                    .containsExactlyElementsOf(oneToFifty));
        } finally {
            broker.close();
        }
    }

    /** How far the relay's cursor is, by position (a cursor row exists once the relay ran). */
    private long cursor(String name) {
        var rows = pool.preparedQuery("SELECT position FROM outbox_cursor WHERE relay = $1")
                .execute(Tuple.of(name)).await().atMost(Duration.ofSeconds(30));
        return rows.size() == 0 ? 0 : rows.iterator().next().getLong(0);
    }
}
