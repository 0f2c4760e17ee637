package dev.berth.volume.crash;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.testing.KafkaBroker;
import dev.berth.testing.PostgresServer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The packaged volume-service, SIGKILLed in the middle of a stream of concurrent creates and started again, loses no
 * acknowledged volume and duplicates none: every 201 is listed, has exactly one created-event in the log and exactly
 * one created-event id on Kafka. Runs after {@code package} (failsafe), against a real PostgreSQL and Kafka broker.
 */
class VolumeCrashIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar");
    private static final int WRITERS = 8;
    private static final int ACKS_BEFORE_KILL = 120;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final String tenant = "crash" + UUID.randomUUID().toString().substring(0, 8);
    private PostgresServer postgres;
    private String database;
    private Process service;
    private int port;

    @AfterEach
    void cleanUp() throws Exception {
        stopService();
        if (postgres != null && database != null) {
            postgres.dropDatabase(database);
        }
    }

    @Test
    void everyAcknowledgedVolumeSurvivesAKillExactlyOnce() throws Exception {
        assertThat(JAR).as("run after package").exists();
        postgres = PostgresServer.shared();
        KafkaBroker kafka = KafkaBroker.shared();
        database = postgres.createDatabase();
        port = freePort();

        startService(kafka, "first");
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        AtomicInteger refused = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService writers = Executors.newFixedThreadPool(WRITERS);
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            writers.submit(() -> {
                for (int i = 0; !stop.get(); i++) {
                    String name = "v" + writer + "-" + i + "-" + UUID.randomUUID().toString().substring(0, 6);
                    try {
                        HttpResponse<String> r = http.send(request("/volumes/create")
                                .POST(HttpRequest.BodyPublishers.ofString("{\"Name\":\"" + name + "\"}")).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() == 201) {
                            acknowledged.add(name);
                        } else {
                            refused.incrementAndGet();
                        }
                    } catch (IOException e) {
                        // the service is gone: this create was never acknowledged
                        refused.incrementAndGet();
                        sleep(20);
                    }
                }
                return null;
            });
        }
        await().atMost(Duration.ofMinutes(3)).until(() -> acknowledged.size() >= ACKS_BEFORE_KILL);
        long pid = service.pid();
        Runtime.getRuntime().exec(new String[]{"kill", "-KILL", Long.toString(pid)}).waitFor();
        assertThat(service.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(service.exitValue()).isEqualTo(137);
        // keep writing against the dead port for a moment: nothing of that may appear later
        sleep(300);
        stop.set(true);
        writers.shutdown();
        assertThat(writers.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
        Set<String> acked = Set.copyOf(acknowledged);

        startService(kafka, "second");

        // 1. every acknowledged volume is listed after the restart
        Set<String> listed = new HashSet<>();
        JsonNode list = JSON.readTree(http.send(request("/volumes").GET().build(),
                HttpResponse.BodyHandlers.ofString()).body());
        list.get("Volumes").forEach(v -> listed.add(v.get("Name").asText()));
        assertThat(listed).containsAll(acked);

        // 2. the log holds exactly one created-event per volume, and the read model equals the log
        Map<String, List<String>> logged = createdEventIds();
        for (String name : acked) {
            assertThat(logged.get(tenant + "/" + name)).as(name).hasSize(1);
        }
        Set<String> loggedNames = new HashSet<>();
        logged.keySet().forEach(id -> loggedNames.add(id.substring(tenant.length() + 1)));
        assertThat(listed).isEqualTo(loggedNames);
        logged.values().forEach(ids -> assertThat(ids).hasSize(1));

        // 3. Kafka carries each created-event: one event id per volume, the one in the log
        Map<String, Set<String>> published = new HashMap<>();
        AtomicInteger records = new AtomicInteger();
        try (KafkaConsumer<String, String> consumer = consumer(kafka.bootstrapServers())) {
            await().atMost(Duration.ofMinutes(2)).until(() -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    Map<String, String> h = headers(r);
                    if (tenant.equals(h.get("ce_tenant")) && "dev.berth.volume.created.v1".equals(h.get("ce_type"))) {
                        records.incrementAndGet();
                        published.computeIfAbsent(r.key(), k -> new HashSet<>()).add(h.get("ce_id"));
                    }
                }
                return published.keySet().containsAll(logged.keySet());
            });
        }
        assertThat(published.keySet()).isEqualTo(logged.keySet());
        for (var e : logged.entrySet()) {
            assertThat(published.get(e.getKey())).as(e.getKey()).containsExactlyElementsOf(e.getValue());
        }
        System.out.printf("crash test: %d acknowledged, %d refused or cut off, %d in the log, %d created records on"
                        + " Kafka for %d event ids (redeliveries of an id are the relay's at-least-once; consumers"
                        + " dedupe by ce_id)%n", acked.size(), refused.get(), logged.size(), records.get(),
                published.size());
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Content-Type", "application/json").header("X-Berth-Tenant", tenant)
                .timeout(Duration.ofSeconds(30));
    }

    private void startService(KafkaBroker kafka, String run) throws Exception {
        Path log = Path.of("target/crash-it-service-" + run + ".log");
        ProcessBuilder pb = new ProcessBuilder("java", "-Xmx256m", "-Dquarkus.http.port=" + port, "-jar",
                JAR.toString()).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("BERTH_PG_HOST", postgres.host());
        env.put("BERTH_PG_PORT", Integer.toString(postgres.port()));
        env.put("BERTH_PG_USER", postgres.user());
        env.put("BERTH_PG_PASSWORD", postgres.password());
        env.put("BERTH_DB_NAME", database);
        env.put("BERTH_KAFKA_BOOTSTRAP", kafka.bootstrapServers());
        service = pb.start();
        try {
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(250)).until(() -> {
                if (!service.isAlive()) {
                    throw new IllegalStateException("service exited: " + Files.readString(log, StandardCharsets.UTF_8));
                }
                try {
                    return http.send(request("/q/health/ready").GET().build(),
                            HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
                } catch (IOException e) {
                    return false;
                }
            });
        } catch (RuntimeException e) {
            stopService();
            throw e;
        }
    }

    private void stopService() throws InterruptedException {
        if (service != null && service.isAlive()) {
            service.destroy();
            if (!service.waitFor(20, TimeUnit.SECONDS)) {
                service.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    private Map<String, List<String>> createdEventIds() throws Exception {
        Map<String, List<String>> out = new HashMap<>();
        try (Connection c = postgres.connect(database);
             PreparedStatement s = c.prepareStatement("select aggregate_id, id from events where tenant = ?"
                     + " and type = 'dev.berth.volume.created.v1' order by position")) {
            s.setString(1, tenant);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2));
                }
            }
        }
        return out;
    }

    private static KafkaConsumer<String, String> consumer(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p);
        List<TopicPartition> partitions = new ArrayList<>();
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            var infos = consumer.partitionsFor("berth.volumes.events", Duration.ofSeconds(5));
            if (infos == null || infos.isEmpty()) {
                return false;
            }
            infos.forEach(i -> partitions.add(new TopicPartition(i.topic(), i.partition())));
            return true;
        });
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    private static Map<String, String> headers(ConsumerRecord<String, String> r) {
        Map<String, String> map = new HashMap<>();
        r.headers().forEach(h -> map.put(h.key(), new String(h.value(), StandardCharsets.UTF_8)));
        return map;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
