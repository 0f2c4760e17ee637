package dev.berth.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.HashMap;
import java.util.Map;

/**
 * A real PostgreSQL and a real Kafka broker for a {@code @QuarkusTest}, without Docker or Dev Services.
 *
 * <p>Servers are shared by the JVM ({@link PostgresServer#shared()}, {@link KafkaBroker#shared()}): reused from
 * {@code BERTH_PG_*} / {@code BERTH_KAFKA_BOOTSTRAP} when set, else started locally once. Each resource instance gets
 * a fresh database, dropped again in {@link #stop()}, so test classes never see each other's rows. Kafka topics are
 * shared: tests use their own aggregate ids.
 *
 * <p>Returns {@code quarkus.datasource.reactive.url}, {@code quarkus.datasource.jdbc.url}, username, password,
 * {@code kafka.bootstrap.servers}, {@code berth.test.database}; turns Dev Services off and picks a random test HTTP
 * port ({@code @TestHTTPResource} and RestAssured follow it).
 */
public class BerthTestResource implements QuarkusTestResourceLifecycleManager {
    private PostgresServer postgres;
    private String database;

    @Override
    public Map<String, String> start() {
        postgres = PostgresServer.shared();
        database = postgres.createDatabase();
        KafkaBroker kafka = KafkaBroker.shared();
        Map<String, String> config = new HashMap<>();
        config.put("quarkus.datasource.reactive.url", postgres.reactiveUrl(database));
        config.put("quarkus.datasource.jdbc.url", postgres.jdbcUrl(database));
        config.put("quarkus.datasource.username", postgres.user());
        config.put("quarkus.datasource.password", postgres.password());
        config.put("kafka.bootstrap.servers", kafka.bootstrapServers());
        config.put("berth.test.database", database);
        config.put("quarkus.devservices.enabled", "false");
        // A random HTTP port: several modules' tests may run on one machine at once.
        config.put("quarkus.http.test-port", "0");
        return config;
    }

    @Override
    public void stop() {
        if (postgres != null && database != null) {
            postgres.dropDatabase(database);
        }
    }
}
