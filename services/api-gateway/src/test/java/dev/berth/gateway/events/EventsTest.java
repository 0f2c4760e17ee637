package dev.berth.gateway.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.events.EventEnvelope;
import dev.berth.events.Topics;
import dev.berth.gateway.api.DockerApiServer;
import dev.berth.gateway.support.EventPublisher;
import dev.berth.gateway.support.KafkaResource;
import dev.berth.gateway.support.RawHttp;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code GET /events} against the real Kafka broker, with events published as the outbox relay publishes them.
 *
 * <p>The callers are two tenants of their own (fresh names per run, from a token file), so events left in the topics
 * by other runs or classes are never theirs. Each history test takes the next window of event times in the past,
 * and the live tests come last: within a partition event times grow with the offsets, as the relay's do.
 */
@QuarkusTest
@TestProfile(EventsTest.OwnTenants.class)
@QuarkusTestResource(value = KafkaResource.class, restrictToAnnotatedClass = true)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EventsTest {

    /** The tenants of this run, kept in a system property so the profile and the test see the same names. */
    static String tenant() {
        return System.getProperties().computeIfAbsent("berth.test.events-tenant",
                k -> "ev" + HexFormat.of().formatHex(new java.security.SecureRandom().generateSeed(5))).toString();
    }

    static String otherTenant() {
        return tenant() + "-other";
    }

    public static class OwnTenants implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Path file = Files.createTempFile("berth-tokens", ".txt");
                file.toFile().deleteOnExit();
                Files.writeString(file, "tok-" + tenant() + " " + tenant() + "\ntok-" + otherTenant() + " " + otherTenant() + "\n");
                return Map.of("berth.gateway.auth.tokens-file", file.toString());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static final String AUTH = "Authorization: Bearer tok-" + tenant();
    private static Instant clock = Instant.now().minus(3, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);

    @Inject
    DockerApiServer server;

    @Inject
    EventStreams streams;

    @TempDir
    Path home;

    private final ObjectMapper json = new ObjectMapper();
    private final Random random = new Random();
    private EventPublisher publisher;

    @BeforeAll
    void publisher() {
        publisher = new EventPublisher();
    }

    @AfterAll
    void closePublisher() {
        publisher.close();
    }

    @Test
    @Order(1)
    void historyBetweenSinceAndUntilComesMergedByTimeAndTheStreamEnds() throws Exception {
        Instant base = window().plusNanos(123456789);
        String id = newId();
        publisher.publish(Topics.CONTAINERS, List.of(
                container("created", tenant(), base.minusSeconds(10), id, "early", "{}"),
                container("created", tenant(), base, id, "trev", "{}"),
                container("started", tenant(), base.plusSeconds(1), id, "trev", "\"nodeId\":\"n1\",\"pid\":42"),
                container("died", tenant(), base.plusSeconds(2), id, "trev",
                        "\"exitCode\":137,\"oomKilled\":true,\"finishedAt\":\"2011-03-04T05:06:09Z\",\"willRestart\":false"),
                container("removed", tenant(), base.plusSeconds(200), id, "trev", "\"autoRemoved\":true")));
        publisher.publish(Topics.IMAGES, List.of(EventPublisher.envelope("/image-service", "dev.berth.image.tagged.v1",
                tenant() + "/images", tenant(), base.plusMillis(1500),
                "{\"imageId\":\"sha256:" + "ab".repeat(32) + "\",\"reference\":\"busybox:local\"}")));
        String netId = newId();
        publisher.publish(Topics.NETWORKS, List.of(EventPublisher.envelope("/network-service",
                "dev.berth.network.created.v1", netId, tenant(), base.plusMillis(500),
                "{\"id\":\"" + netId + "\",\"name\":\"trevnet\",\"driver\":\"bridge\",\"predefined\":false}")));
        publisher.publish(Topics.VOLUMES, List.of(EventPublisher.envelope("/volume-service",
                "dev.berth.volume.created.v1", tenant() + "/trvol", tenant(), base.plusMillis(2500),
                "{\"name\":\"trvol\",\"driver\":\"local\",\"labels\":{}}")));

        List<JsonNode> events = history(base.minusSeconds(1), base.plusSeconds(100), null);
        assertThat(events).extracting(e -> e.path("Type").asText() + " " + e.path("Action").asText())
                .containsExactly("container create", "network create", "container start", "image tag",
                        "container oom", "container die", "volume create");

        JsonNode start = events.get(2);
        assertThat(start.toString()).isEqualTo("{\"status\":\"start\",\"id\":\"" + id + "\",\"from\":\"busybox:local\","
                + "\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":\"" + id + "\",\"Attributes\":"
                + "{\"image\":\"busybox:local\",\"name\":\"trev\",\"tr\":\"7\"}},\"scope\":\"local\","
                + "\"time\":" + (base.getEpochSecond() + 1) + ",\"timeNano\":" + ((base.getEpochSecond() + 1) * 1_000_000_000L + 123456789) + "}");
        assertThat(events.get(5).path("Actor").path("Attributes").path("exitCode").asText()).isEqualTo("137");
        assertThat(events.get(3).path("Actor").path("Attributes").path("name").asText()).isEqualTo("busybox:local");
        assertThat(events.get(1).has("status")).as("legacy fields only for containers and images").isFalse();
        assertThat(events.get(1).path("Actor").path("Attributes").path("type").asText()).isEqualTo("bridge");
        assertThat(events.get(6).path("Actor").path("ID").asText()).isEqualTo("trvol");
    }

    @Test
    @Order(2)
    void filtersSelectAsDockerDoesInBothForms() throws Exception {
        Instant base = window();
        String web = newId();
        String db = newId();
        publisher.publish(Topics.CONTAINERS, List.of(
                container("created", tenant(), base, web, "web", "{}"),
                container("started", tenant(), base.plusSeconds(1), web, "web", "\"pid\":1"),
                withLabels(container("started", tenant(), base.plusSeconds(2), db, "db", "\"pid\":2"), "{\"tr\":\"8\"}"),
                container("killed", tenant(), base.plusSeconds(3), web, "web", "\"signal\":\"SIGTERM\"")));
        String netId = newId();
        publisher.publish(Topics.NETWORKS, List.of(EventPublisher.envelope("/network-service",
                "dev.berth.network.created.v1", netId, tenant(), base.plusSeconds(4),
                "{\"id\":\"" + netId + "\",\"name\":\"webnet\",\"driver\":\"bridge\"}")));

        Instant since = base.minusSeconds(1);
        Instant until = base.plusSeconds(60);
        assertThat(actions(history(since, until,
                "{\"type\":{\"container\":true},\"event\":{\"start\":true},\"label\":{\"tr=7\":true}}")))
                .containsExactly("start " + web);
        // the list form (docker-compose v1), and the name prefix that also selects the network webnet, as dockerd does
        assertThat(actions(history(since, until, "{\"container\":[\"web\"]}")))
                .containsExactly("create " + web, "start " + web, "kill " + web, "create " + netId);
        assertThat(actions(history(since, until, "{\"container\":[\"" + db.substring(0, 12) + "\"]}")))
                .containsExactly("start " + db);
        assertThat(actions(history(since, until, "{\"image\":[\"busybox\"],\"event\":[\"kill\"]}")))
                .containsExactly("kill " + web);
        assertThat(history(since, until, "{\"event\":[\"kill\"]}").get(0).path("Actor").path("Attributes").path("signal").asText())
                .as("a signal name becomes Docker's number").isEqualTo("15");
        assertThat(actions(history(since, until, "{\"type\":[\"network\"]}"))).containsExactly("create " + netId);
        assertThat(actions(history(since, until, "{\"label\":{\"tr=7\":false}}"))).as("a value mapped to false does not filter")
                .hasSize(5);
    }

    @Test
    @Order(3)
    void onlyTheCallersTenantOnlyCommittedEventsAndEachEventOnce() throws Exception {
        Instant base = window();
        String mine = newId();
        String theirs = newId();
        EventEnvelope once = container("started", tenant(), base.plusSeconds(1), mine, "mine", "\"pid\":7");
        publisher.publish(Topics.CONTAINERS, List.of(
                container("created", tenant(), base, mine, "mine", "{}"),
                container("created", otherTenant(), base, theirs, "theirs", "{}"),
                once));
        // the relay delivers at least once: the same event (same ce_id) again, as after a crash before its cursor moved
        publisher.publish(Topics.CONTAINERS, List.of(once));
        publisher.publishAborted(Topics.CONTAINERS, List.of(
                container("died", tenant(), base.plusSeconds(2), mine, "mine", "\"exitCode\":1")));

        assertThat(actions(history(base.minusSeconds(1), base.plusSeconds(60), null)))
                .containsExactly("create " + mine, "start " + mine);
        assertThat(actions(history(base.minusSeconds(1), base.plusSeconds(60), null, "Authorization: Bearer tok-" + otherTenant())))
                .containsExactly("create " + theirs);
    }

    @Test
    @Order(6)
    void liveEventsArriveAsTheyArePublishedAndTheConsumerGoesWithTheClient() throws Exception {
        String id = newId();
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("GET", "/v1.41/events?filters=" + encode("{\"container\":[\"" + id + "\"]}"), AUTH);
            RawHttp.Head head = c.head();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Content-Type")).isEqualTo("application/json");
            assertThat(head.header("Transfer-Encoding")).isEqualTo("chunked");
            EventEnvelope created = container("created", tenant(), Instant.now(), id, "live", "{}");
            publisher.publish(Topics.CONTAINERS, List.of(created));
            assertThat(event(c.chunk())).isEqualTo("create " + id);
            publisher.publish(Topics.CONTAINERS, List.of(created));
            publisher.publish(Topics.CONTAINERS, List.of(container("started", tenant(), Instant.now(), id, "live", "\"pid\":3")));
            assertThat(event(c.chunk())).as("the redelivered create is dropped").isEqualTo("start " + id);
            assertThat(streams.openConsumers()).isEqualTo(1);
        }
        // the client hung up: its consumer is closed and its thread gone
        await().atMost(Duration.ofSeconds(30)).until(() -> streams.openConsumers() == 0 && streams.runningStreams() == 0);
    }

    @Test
    @Order(7)
    void aFutureUntilStreamsLiveEventsThenEndsTheResponse() throws Exception {
        String id = newId();
        long until = Instant.now().plusSeconds(3).getEpochSecond();
        try (RawHttp c = new RawHttp(server.port())) {
            c.send("GET", "/v1.41/events?until=" + until + "&filters=" + encode("{\"container\":[\"" + id + "\"]}"), AUTH);
            assertThat(c.head().status()).isEqualTo(200);
            publisher.publish(Topics.CONTAINERS, List.of(container("created", tenant(), Instant.now(), id, "soon", "{}")));
            assertThat(event(c.chunk())).isEqualTo("create " + id);
            assertThat(c.chunk()).as("the response ends once until has passed").isNull();
            // and the connection is good for another request
            c.send("GET", "/_ping", AUTH);
            assertThat(c.response(false).text()).isEqualTo("OK");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> streams.openConsumers() == 0);
    }

    @Test
    @Order(4)
    void aLongHistoryIsMergedByTimeWithEachPartitionInItsOrder() throws Exception {
        Instant base = window();
        String id = newId();
        List<EventEnvelope> containers = new ArrayList<>();
        for (int i = 0; i < 450; i++) {
            containers.add(EventPublisher.envelope("/container-service", "dev.berth.container.started.v1",
                    tenant() + "/containers", tenant(), base.plusMillis(2L * i),
                    "{\"containerId\":\"" + id + "\",\"name\":\"bulk\",\"image\":\"busybox\",\"labels\":{\"seq\":\"" + i + "\"}}"));
        }
        List<EventEnvelope> images = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            images.add(EventPublisher.envelope("/image-service", "dev.berth.image.tagged.v1", tenant() + "/images", tenant(),
                    base.plusMillis(6L * i + 1), "{\"imageId\":\"sha256:" + "cd".repeat(32) + "\",\"reference\":\"bulk:" + i + "\"}"));
        }
        publisher.publish(Topics.CONTAINERS, containers);
        publisher.publish(Topics.IMAGES, images);

        List<JsonNode> events = history(base.minusSeconds(1), base.plusSeconds(10), null);
        assertThat(events).hasSize(600);
        long previous = 0;
        int nextSeq = 0;
        int nextTag = 0;
        for (JsonNode e : events) {
            assertThat(e.path("timeNano").asLong()).as("merged by time").isGreaterThanOrEqualTo(previous);
            previous = e.path("timeNano").asLong();
            if (e.path("Type").asText().equals("container")) {
                assertThat(e.path("Actor").path("Attributes").path("seq").asInt()).isEqualTo(nextSeq++);
            } else {
                assertThat(e.path("Actor").path("Attributes").path("name").asText()).isEqualTo("bulk:" + nextTag++);
            }
        }
        assertThat(nextSeq).isEqualTo(450);
        assertThat(nextTag).isEqualTo(150);
    }

    @Test
    @Order(5)
    void theDockerCliPrintsTheEventsBetweenSinceAndUntil() throws Exception {
        Instant base = window();
        String id = newId();
        publisher.publish(Topics.CONTAINERS, List.of(
                container("created", tenant(), base, id, "cli1", "{}"),
                container("started", tenant(), base.plusSeconds(1), id, "cli1", "\"pid\":9"),
                container("stopped", tenant(), base.plusSeconds(30), id, "cli1", "")));
        Path out = home.resolve("out.txt");
        Path err = home.resolve("err.txt");
        Files.createDirectories(home.resolve(".docker"));
        Files.writeString(home.resolve(".docker/config.json"),
                "{\"HttpHeaders\":{\"Authorization\":\"Bearer tok-" + tenant() + "\"}}");
        ProcessBuilder pb = new ProcessBuilder("/usr/local/bin/docker", "events", "--since", base.minusSeconds(9).toString(),
                "--until", base.plusSeconds(11).toString());
        pb.environment().put("DOCKER_HOST", "tcp://127.0.0.1:" + server.port());
        pb.environment().put("HOME", home.toString());
        pb.environment().put("TZ", "UTC");
        pb.environment().remove("DOCKER_CONTEXT");
        pb.environment().remove("DOCKER_CONFIG");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile()).redirectInput(new java.io.File("/dev/null"));
        Process p = pb.start();
        try {
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("docker events ends by itself at --until").isTrue();
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        assertThat(Files.readString(err)).isEmpty();
        assertThat(p.exitValue()).isZero();
        List<String> lines = Files.readAllLines(out);
        assertThat(lines).hasSize(2);
        String second = base.toString().substring(0, 19);
        String next = base.plusSeconds(1).toString().substring(0, 19);
        assertThat(lines.get(0)).matches(second + "\\.0+Z container create " + id + " \\(image=busybox:local, name=cli1, tr=7\\)");
        assertThat(lines.get(1)).matches(next + "\\.0+Z container start " + id + " \\(image=busybox:local, name=cli1, tr=7\\)");
    }

    // ---- helpers ----

    /** The next window of event times: an hour apart, in the past, later than the previous test's. */
    private static synchronized Instant window() {
        clock = clock.plus(1000, ChronoUnit.SECONDS);
        return clock;
    }

    private List<JsonNode> history(Instant since, Instant until, String filters) throws Exception {
        return history(since, until, filters, AUTH);
    }

    private List<JsonNode> history(Instant since, Instant until, String filters, String auth) throws Exception {
        String path = "/v1.44/events?since=" + unix(since) + "&until=" + unix(until)
                + (filters == null ? "" : "&filters=" + encode(filters));
        RawHttp.Response r = RawHttp.call(server.port(), "GET", path, auth);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        List<JsonNode> events = new ArrayList<>();
        for (String line : r.text().split("\n")) {
            if (!line.isEmpty()) {
                events.add(json.readTree(line));
            }
        }
        return events;
    }

    private static List<String> actions(List<JsonNode> events) {
        return events.stream().map(e -> e.path("Action").asText() + " " + e.path("Actor").path("ID").asText()).toList();
    }

    private String event(byte[] chunk) throws Exception {
        assertThat(chunk).isNotNull();
        String text = new String(chunk, StandardCharsets.UTF_8);
        assertThat(text).as("one event per chunk, newline-terminated").endsWith("\n").doesNotContain("}\n{");
        JsonNode e = json.readTree(text);
        return e.path("Action").asText() + " " + e.path("Actor").path("ID").asText();
    }

    private static String unix(Instant t) {
        return t.getEpochSecond() + "." + String.format("%09d", t.getNano());
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private String newId() {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** A container event as container-service appends it: containerId, name, image, labels plus the type's fields. */
    private static EventEnvelope container(String verb, String tenant, Instant time, String id, String name, String extra) {
        String fields = extra.isEmpty() || extra.equals("{}") ? "" : "," + extra;
        String data = verb.equals("created")
                ? "{\"containerId\":\"" + id + "\",\"name\":\"" + name + "\",\"nodeId\":\"n1\",\"createdAt\":\"" + time
                + "\",\"spec\":{\"image\":\"busybox:local\",\"labels\":{\"tr\":\"7\"},\"cmd\":[\"true\"]}}"
                : "{\"containerId\":\"" + id + "\",\"name\":\"" + name + "\",\"image\":\"busybox:local\","
                + "\"labels\":{\"tr\":\"7\"}" + fields + "}";
        return EventPublisher.envelope("/container-service", "dev.berth.container." + verb + ".v1", tenant + "/containers",
                tenant, time, data);
    }

    private static EventEnvelope withLabels(EventEnvelope e, String labels) {
        return new EventEnvelope(e.id(), e.source(), e.type(), e.subject(), e.time(), e.tenant(), e.sequence(),
                e.correlationId(), e.causationId(), e.data().replace("{\"tr\":\"7\"}", labels));
    }
}
