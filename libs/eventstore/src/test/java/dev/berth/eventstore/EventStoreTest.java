package dev.berth.eventstore;

import dev.berth.events.DomainException;
import dev.berth.eventstore.sample.VolumeCommand;
import dev.berth.eventstore.sample.VolumeDecider;
import dev.berth.eventstore.sample.VolumeEvent;
import dev.berth.testing.BerthTestResource;
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
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

@QuarkusTest
@WithTestResource(BerthTestResource.class)
class EventStoreTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Inject
    EventStore store;
    @Inject
    Aggregates aggregates;
    @Inject
    Mutiny.SessionFactory sessions;
    @Inject
    Vertx vertx;
    @Inject
    Pool pool;

    private <T> Uni<T> inTransaction(java.util.function.Function<Mutiny.Session, Uni<T>> work) {
        return ReactiveContext.run(vertx, () -> sessions.withTransaction(work));
    }

    private static String newId() {
        return "vol-" + UUID.randomUUID();
    }

    private static NewEvent labelled(String key) {
        return new NewEvent("dev.berth.volume.labelled.v1", new VolumeEvent.Labelled(key, "x"));
    }

    @Test
    void appendsAndLoadsInVersionOrderWithMetadata() {
        String id = newId();
        UUID correlation = UUID.randomUUID();
        var metadata = new EventMetadata("acme", correlation, null);
        List<StoredEvent> first = inTransaction(s -> store.append(s, "volume", id, 0,
                List.of(new NewEvent("dev.berth.volume.created.v1", new VolumeEvent.Created("data", Map.of("a", "1"))),
                        labelled("b")), metadata)).await().atMost(WAIT);
        List<StoredEvent> second = inTransaction(s -> store.append(s, "volume", id, 2, List.of(labelled("c")),
                metadata)).await().atMost(WAIT);

        assertThat(first).extracting(StoredEvent::version).containsExactly(1L, 2L);
        assertThat(second.get(0).version()).isEqualTo(3);
        assertThat(second.get(0).position()).isGreaterThan(first.get(1).position());

        List<StoredEvent> loaded = inTransaction(s -> store.load(s, id)).await().atMost(WAIT);
        assertThat(loaded).extracting(StoredEvent::version).containsExactly(1L, 2L, 3L);
        assertThat(loaded).extracting(StoredEvent::id)
                .containsExactly(first.get(0).id(), first.get(1).id(), second.get(0).id());
        StoredEvent created = loaded.get(0);
        assertThat(created.aggregateType()).isEqualTo("volume");
        assertThat(created.type()).isEqualTo("dev.berth.volume.created.v1");
        assertThat(created.tenant()).isEqualTo("acme");
        assertThat(created.correlationId()).isEqualTo(correlation);
        assertThat(created.causationId()).isNull();
        assertThat(created.time()).isNotNull();
        assertThat(created.data()).contains("\"name\"").contains("\"data\"");
        assertThat(inTransaction(s -> store.load(s, "vol-none")).await().atMost(WAIT)).isEmpty();
    }

    @Test
    void twoConcurrentAppendsAtTheSameVersionExactlyOneWins() throws Exception {
        String id = newId();
        var metadata = EventMetadata.of("acme");
        CompletableFuture<Void> releaseFirst = new CompletableFuture<>();
        CompletableFuture<Void> firstInserted = new CompletableFuture<>();

        CompletableFuture<List<StoredEvent>> first = inTransaction(s -> store.append(s, "volume", id, 0,
                        List.of(labelled("first")), metadata)
                .invoke(() -> firstInserted.complete(null))
                .call(() -> Latches.awaitRelease(releaseFirst)))
                .subscribeAsCompletionStage();
        firstInserted.get(30, TimeUnit.SECONDS);

        CompletableFuture<List<StoredEvent>> second = inTransaction(s -> store.append(s, "volume", id, 0,
                List.of(labelled("second")), metadata)).subscribeAsCompletionStage();
        // Both transactions are open at once: the second waits on the first's uncommitted row.
        await().atMost(WAIT).until(() -> pool.preparedQuery("SELECT count(*) FROM pg_stat_activity"
                        + " WHERE datname = current_database() AND wait_event_type = 'Lock'")
                .execute().await().atMost(WAIT).iterator().next().getLong(0) >= 1);
        releaseFirst.complete(null);

        List<Object> outcomes = new ArrayList<>();
        for (CompletableFuture<List<StoredEvent>> f : List.of(first, second)) {
            try {
                outcomes.add(f.get(30, TimeUnit.SECONDS));
            } catch (java.util.concurrent.ExecutionException e) {
                outcomes.add(e.getCause());
            }
        }
        assertThat(outcomes).as("outcomes %s", outcomes).filteredOn(o -> o instanceof List).hasSize(1);
        assertThat(outcomes).as("outcomes %s", outcomes).filteredOn(o -> o instanceof ConcurrencyException).hasSize(1)
                .first().extracting(o -> ((Throwable) o).getMessage()).asString()
                .contains(id).contains("version 0");
        List<StoredEvent> loaded = inTransaction(s -> store.load(s, id)).await().atMost(WAIT);
        assertThat(loaded).hasSize(1);
        assertThat(loaded.get(0).data()).contains("first");
    }

    @Test
    void aStaleExpectedVersionIsAConflictNotAnOverwrite() {
        String id = newId();
        var metadata = EventMetadata.of("acme");
        inTransaction(s -> store.append(s, "volume", id, 0, List.of(labelled("a"), labelled("b")), metadata))
                .await().atMost(WAIT);
        assertThatThrownBy(() -> inTransaction(s -> store.append(s, "volume", id, 1, List.of(labelled("c")), metadata))
                .await().atMost(WAIT)).isInstanceOf(ConcurrencyException.class);
        assertThat(inTransaction(s -> store.load(s, id)).await().atMost(WAIT)).hasSize(2);
    }

    @Test
    void refusesAnAggregateTypeWithoutATopicAndWritesNothing() {
        String id = newId();
        assertThatThrownBy(() -> inTransaction(s -> store.append(s, "ship", id, 0, List.of(labelled("a")),
                EventMetadata.of("acme"))).await().atMost(WAIT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ship");
        assertThat(inTransaction(s -> store.load(s, id)).await().atMost(WAIT)).isEmpty();
    }

    @Test
    void aggregatesDecideAppendAndProjectInOneTransaction() {
        String id = newId();
        var metadata = EventMetadata.of("tenant-" + id);
        var created = aggregates.handle("volume", id, VolumeDecider.INSTANCE, VolumeEvent.class,
                new VolumeCommand.Create("data", Map.of("a", "1")), metadata).await().atMost(WAIT);
        assertThat(created.events()).containsExactly(new VolumeEvent.Created("data", Map.of("a", "1")));
        assertThat(created.stored()).extracting(StoredEvent::version).containsExactly(1L);
        assertThat(created.state().exists()).isTrue();

        var unchanged = aggregates.handle("volume", id, VolumeDecider.INSTANCE, VolumeEvent.class,
                new VolumeCommand.Label("a", "1"), metadata).await().atMost(WAIT);
        assertThat(unchanged.events()).isEmpty();

        var row = pool.preparedQuery("SELECT name, labels::text, version, tenant FROM test_volumes WHERE id = $1")
                .execute(Tuple.of(id)).await().atMost(WAIT).iterator().next();
        assertThat(row.getString(0)).isEqualTo("data");
        assertThat(row.getString(1)).isEqualTo("{\"a\": \"1\"}");
        assertThat(row.getLong(2)).isEqualTo(1);
        assertThat(pool.preparedQuery("SELECT volumes FROM test_tenant_counts WHERE tenant = $1")
                .execute(Tuple.of("tenant-" + id)).await().atMost(WAIT).iterator().next().getInteger(0)).isEqualTo(1);

        assertThat(aggregates.load(id, VolumeDecider.INSTANCE, VolumeEvent.class).await().atMost(WAIT))
                .isEqualTo(new VolumeDecider.State(true, "data", Map.of("a", "1")));
    }

    @Test
    void aRefusedCommandWritesNothing() {
        String id = newId();
        var metadata = EventMetadata.of("acme");
        aggregates.handle("volume", id, VolumeDecider.INSTANCE, VolumeEvent.class,
                new VolumeCommand.Create("data", Map.of()), metadata).await().atMost(WAIT);

        assertThatThrownBy(() -> aggregates.handle("volume", id, VolumeDecider.INSTANCE, VolumeEvent.class,
                new VolumeCommand.Create("data", Map.of()), metadata).await().atMost(WAIT))
                .isInstanceOf(DomainException.class)
                .hasMessageContaining("already exists")
                .extracting(e -> ((DomainException) e).status()).isEqualTo(409);
        assertThat(inTransaction(s -> store.load(s, id)).await().atMost(WAIT)).hasSize(1);
    }

    @Test
    void aCachedStateStillSeesWhatAnotherWriterAppended() {
        String id = newId();
        var metadata = EventMetadata.of("acme");
        aggregates.handle("volume", id, VolumeDecider.INSTANCE, VolumeEvent.class,
                new VolumeCommand.Create("data", Map.of()), metadata).await().atMost(WAIT);
        // another instance of the service appends behind this one's back
        inTransaction(s -> store.append(s, "volume", id, 1, List.of(labelled("theirs")), metadata))
                .await().atMost(WAIT);

        var mine = aggregates.handle("volume", id, VolumeDecider.INSTANCE, VolumeEvent.class,
                new VolumeCommand.Label("mine", "x"), metadata).await().atMost(WAIT);
        assertThat(mine.stored()).extracting(StoredEvent::version).containsExactly(3L);
        assertThat(mine.state().labels()).containsOnlyKeys("theirs", "mine");
        // labelling "theirs" again is nothing to do: the state knows it
        assertThat(aggregates.handle("volume", id, VolumeDecider.INSTANCE, VolumeEvent.class,
                new VolumeCommand.Label("theirs", "x"), metadata).await().atMost(WAIT).events()).isEmpty();
        assertThat(aggregates.load(id, VolumeDecider.INSTANCE, VolumeEvent.class).await().atMost(WAIT).labels())
                .containsOnlyKeys("theirs", "mine");
    }

    @Test
    void aCommandWhoseTransactionRolledBackLeavesNoTraceInTheState() {
        String id = newId();
        var metadata = EventMetadata.of("acme");
        // a row in the way makes the projection of the create fail, after the append, inside its transaction
        pool.preparedQuery("INSERT INTO test_volumes (id, tenant, name, labels, version) VALUES ($1, 'x', 'x', '{}', 0)")
                .execute(Tuple.of(id)).await().atMost(WAIT);
        assertThatThrownBy(() -> aggregates.handle("volume", id, VolumeDecider.INSTANCE, VolumeEvent.class,
                new VolumeCommand.Create("data", Map.of()), metadata).await().atMost(WAIT)).isNotNull();
        assertThat(inTransaction(s -> store.load(s, id)).await().atMost(WAIT)).isEmpty();
        assertThat(aggregates.load(id, VolumeDecider.INSTANCE, VolumeEvent.class).await().atMost(WAIT).exists())
                .isFalse();

        pool.preparedQuery("DELETE FROM test_volumes WHERE id = $1").execute(Tuple.of(id)).await().atMost(WAIT);
        var created = aggregates.handle("volume", id, VolumeDecider.INSTANCE, VolumeEvent.class,
                new VolumeCommand.Create("data", Map.of()), metadata).await().atMost(WAIT);
        assertThat(created.stored()).extracting(StoredEvent::version).containsExactly(1L);
    }

    @Test
    void concurrentCommandsOnOneAggregateAllLandThroughRetries() {
        String id = newId();
        var metadata = EventMetadata.of("acme");
        aggregates.handle("volume", id, VolumeDecider.INSTANCE, VolumeEvent.class,
                new VolumeCommand.Create("data", Map.of()), metadata).await().atMost(WAIT);

        List<CompletableFuture<?>> running = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            running.add(aggregates.handle("volume", id, VolumeDecider.INSTANCE, VolumeEvent.class,
                    new VolumeCommand.Label("k" + i, "v"), metadata).subscribeAsCompletionStage());
        }
        CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).orTimeout(60, TimeUnit.SECONDS).join();

        List<StoredEvent> loaded = inTransaction(s -> store.load(s, id)).await().atMost(WAIT);
        assertThat(loaded).extracting(StoredEvent::version).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(aggregates.load(id, VolumeDecider.INSTANCE, VolumeEvent.class).await().atMost(WAIT).labels())
                .containsOnlyKeys("k0", "k1", "k2", "k3");
        var row = pool.preparedQuery("SELECT version FROM test_volumes WHERE id = $1")
                .execute(Tuple.of(id)).await().atMost(WAIT).iterator().next();
        assertThat(row.getLong(0)).isEqualTo(5);
    }

    @Test
    void theLogIsAppendOnly() {
        String id = newId();
        inTransaction(s -> store.append(s, "volume", id, 0, List.of(labelled("a")), EventMetadata.of("acme")))
                .await().atMost(WAIT);
        assertThatThrownBy(() -> pool.preparedQuery("UPDATE events SET type = 'x' WHERE aggregate_id = $1")
                .execute(Tuple.of(id)).await().atMost(WAIT))
                .isInstanceOf(RuntimeException.class)
                .hasMessageContaining("append-only");
    }
}
