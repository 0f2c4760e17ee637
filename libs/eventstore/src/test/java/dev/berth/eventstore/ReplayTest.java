package dev.berth.eventstore;

import dev.berth.eventstore.sample.VolumeCommand;
import dev.berth.eventstore.sample.VolumeDecider;
import dev.berth.eventstore.sample.VolumeEvent;
import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Its own database (restricted scope): every event in it went through the live projections. */
@QuarkusTest
@WithTestResource(value = BerthTestResource.class, scope = TestResourceScope.RESTRICTED_TO_CLASS)
class ReplayTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Inject
    Aggregates aggregates;
    @Inject
    Replayer replayer;
    @Inject
    Pool pool;

    private void handle(String id, String tenant, VolumeCommand command) {
        aggregates.handle("volume", id, VolumeDecider.INSTANCE, VolumeEvent.class, command,
                EventMetadata.of(tenant)).await().atMost(WAIT);
    }

    private List<String> table(String sql) {
        List<String> rows = new ArrayList<>();
        for (Row r : pool.query(sql).execute().await().atMost(WAIT)) {
            rows.add(r.toJson().encode());
        }
        return rows;
    }

    private Map<String, List<String>> readModels() {
        return Map.of(
                "test_volumes", table("SELECT id, tenant, name, labels::text, version FROM test_volumes ORDER BY id"),
                "test_tenant_counts", table("SELECT tenant, volumes FROM test_tenant_counts ORDER BY tenant"));
    }

    @Test
    void replayRebuildsReadModelsEqualToTheLiveOnes() {
        for (int i = 0; i < 8; i++) {
            String id = "vol-" + i;
            String tenant = i % 2 == 0 ? "acme" : "globex";
            handle(id, tenant, new VolumeCommand.Create("v" + i, Map.of("n", Integer.toString(i))));
            handle(id, tenant, new VolumeCommand.Label("color", i % 3 == 0 ? "red" : "blue"));
            if (i % 4 == 1) {
                handle(id, tenant, new VolumeCommand.Remove());
            }
        }
        handle("vol-1", "globex", new VolumeCommand.Create("again", Map.of()));
        Map<String, List<String>> live = readModels();
        assertThat(live.get("test_volumes")).hasSize(7);
        assertThat(live.get("test_tenant_counts")).containsExactly("{\"tenant\":\"acme\",\"volumes\":4}",
                "{\"tenant\":\"globex\",\"volumes\":3}");

        // Damage the read models, so that only a real rebuild can make them equal again.
        pool.query("DELETE FROM test_volumes WHERE id = 'vol-0'").execute().await().atMost(WAIT);
        pool.query("UPDATE test_tenant_counts SET volumes = 99").execute().await().atMost(WAIT);
        assertThat(readModels()).isNotEqualTo(live);

        long replayed = replayer.rebuild().await().atMost(WAIT);

        long logged = pool.query("SELECT count(*) FROM events").execute().await().atMost(WAIT)
                .iterator().next().getLong(0);
        assertThat(replayed).isEqualTo(logged).isEqualTo(8 + 8 + 2 + 1);
        assertThat(readModels()).isEqualTo(live);
    }
}
