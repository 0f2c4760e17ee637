package dev.berth.image.api;

import dev.berth.events.EventEnvelope;
import dev.berth.events.Topics;
import dev.berth.eventstore.KafkaEvents;
import dev.berth.testing.BerthTestResource;
import dev.berth.testing.PostgresServer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

/**
 * {@code docker rmi} and image prune refuse an image that containers use, as Docker does. The usage comes from
 * container events on {@code berth.containers.events}, produced here as container-service's outbox relay publishes
 * them (CloudEvents binary mode, keyed by the aggregate id) to a real Kafka broker.
 */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class ImageInUseTest {

    private static KafkaProducer<String, byte[]> producer;

    @BeforeAll
    static void producer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, ConfigProvider.getConfig()
                .getValue("kafka.bootstrap.servers", String.class));
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        producer = new KafkaProducer<>(p);
    }

    @AfterAll
    static void closeProducer() {
        producer.close();
    }

    /** One tenant's container aggregate, publishing events in order with rising sequence numbers. */
    private static final class Containers {
        final String tenant = "t" + UUID.randomUUID().toString().substring(0, 8);
        long sequence;

        EventEnvelope publish(String type, String data) throws Exception {
            EventEnvelope e = new EventEnvelope(UUID.randomUUID().toString(), "/container-service", type,
                    tenant + "/containers", Instant.now(), tenant, ++sequence, null, null, data);
            publish(e);
            return e;
        }

        void publish(EventEnvelope e) throws Exception {
            producer.send(KafkaEvents.record(Topics.CONTAINERS, e)).get();
        }

        EventEnvelope created(String id, String name, String imageId) throws Exception {
            return publish("dev.berth.container.created.v1", "{\"containerId\":\"" + id + "\",\"name\":\"" + name
                    + "\",\"nodeId\":\"node-1\",\"spec\":{\"image\":\"used:1\",\"imageId\":\"" + imageId
                    + "\",\"cmd\":[\"sleep\",\"300\"],\"labels\":{}},\"createdAt\":\"" + Instant.now() + "\"}");
        }

        EventEnvelope event(String type, String id, String extra) throws Exception {
            return publish(type, "{\"containerId\":\"" + id + "\",\"name\":\"c\",\"image\":\"used:1\","
                    + "\"labels\":{}" + extra + "}");
        }

        RequestSpecification api() {
            return given().header("X-Berth-Tenant", tenant);
        }
    }

    private static String importImage(Containers c, String name, byte[] rootfs) throws Exception {
        String body = c.api().contentType("text/plain").body(rootfs).queryParam("fromSrc", "-")
                .queryParam("repo", name).post("/images/create").then().statusCode(200).extract().asString();
        return body.substring(11, 82);
    }

    @Test
    void aContainerOfTheImageBlocksRemovalUntilItIsRemoved() throws Exception {
        Containers c = new Containers();
        byte[] rootfs = Tars.rootfs(c.tenant);
        String image = importImage(c, "used:1", rootfs);
        String shortImage = image.substring(7, 19);
        String container = hex('a');
        c.created(container, "web", image);
        awaitRows(c.tenant, rows -> rows.equals(List.of(container + " " + image + " false")));

        c.api().delete("/images/used:1").then().statusCode(409).body("message", equalTo(
                "conflict: unable to remove repository reference \"used:1\" (must force) - container "
                        + container.substring(0, 12) + " is using its referenced image " + shortImage));
        c.api().delete("/images/" + image).then().statusCode(409).body("message", equalTo(
                "conflict: unable to delete " + shortImage + " (must be forced) - image is being used by stopped"
                        + " container " + container.substring(0, 12)));
        c.api().queryParam("filters", "{\"dangling\":[\"false\"]}").post("/images/prune").then().statusCode(200)
                .body("SpaceReclaimed", equalTo(0));

        c.event("dev.berth.container.removed.v1", container, ",\"autoRemoved\":false");
        awaitRows(c.tenant, List::isEmpty);
        c.api().delete("/images/used:1").then().statusCode(200).body(equalTo("[{\"Untagged\":\"used:1\"},"
                + "{\"Deleted\":\"" + image + "\"},{\"Deleted\":\"" + Tars.sha256(rootfs) + "\"}]"));
    }

    @Test
    void aRunningContainerBlocksRemovalEvenWithForceAndARedeliveryChangesNothing() throws Exception {
        Containers c = new Containers();
        byte[] rootfs = Tars.rootfs(c.tenant);
        String image = importImage(c, "run:1", rootfs);
        String shortImage = image.substring(7, 19);
        String container = hex('b');
        c.created(container, "srv", image);
        EventEnvelope started = c.event("dev.berth.container.started.v1", container,
                ",\"nodeId\":\"node-1\",\"pid\":4242,\"startedAt\":\"" + Instant.now() + "\",\"network\":null");
        awaitRows(c.tenant, rows -> rows.equals(List.of(container + " " + image + " true")));

        String running = "conflict: unable to delete " + shortImage + " (cannot be forced) - image is being used by"
                + " running container " + container.substring(0, 12);
        c.api().queryParam("force", "1").delete("/images/" + image).then().statusCode(409)
                .body("message", equalTo(running));
        c.api().delete("/images/" + image).then().statusCode(409).body("message", equalTo(running));

        // a death the restart policy answers leaves it running (Docker counts a restarting container as running)
        c.event("dev.berth.container.died.v1", container, ",\"exitCode\":1,\"oomKilled\":false,\"finishedAt\":\""
                + Instant.now() + "\",\"willRestart\":true");
        c.event("dev.berth.container.restarted-by-policy.v1", container, ",\"restartCount\":1,\"pid\":4243,"
                + "\"startedAt\":\"" + Instant.now() + "\",\"network\":null");
        c.event("dev.berth.container.stopped.v1", container, "");
        awaitRows(c.tenant, rows -> rows.equals(List.of(container + " " + image + " false")));

        // the old start delivered again must not make the stopped container running; a later marker event of the
        // same aggregate (same key, same partition) proves the redelivery was consumed before it
        c.publish(started);
        String other = hex('c');
        c.created(other, "marker", image);
        awaitRows(c.tenant, rows -> rows.size() == 2);
        assertThat(rows(c.tenant)).containsExactlyInAnyOrder(container + " " + image + " false", other + " " + image + " false");

        // force removes an image only stopped containers use: the image goes, the containers keep their rows
        c.api().queryParam("force", "true").delete("/images/" + image).then().statusCode(200)
                .body(equalTo("[{\"Untagged\":\"run:1\"},{\"Deleted\":\"" + image + "\"},{\"Deleted\":\""
                        + Tars.sha256(rootfs) + "\"}]"));
    }

    @Test
    void forcedUntagOfAnImageARunningContainerUsesLeavesTheImageDangling() throws Exception {
        Containers c = new Containers();
        byte[] rootfs = Tars.rootfs(c.tenant);
        String image = importImage(c, "keep:1", rootfs);
        String container = hex('d');
        c.created(container, "k", image);
        c.event("dev.berth.container.started.v1", container, ",\"nodeId\":\"node-1\",\"pid\":1,\"startedAt\":\""
                + Instant.now() + "\",\"network\":null");
        awaitRows(c.tenant, rows -> rows.equals(List.of(container + " " + image + " true")));

        // Docker: a forced removal by name untags; the image stays (quietly) because a running container uses it
        c.api().queryParam("force", "1").delete("/images/keep:1").then().statusCode(200)
                .body(equalTo("[{\"Untagged\":\"keep:1\"}]"));
        c.api().get("/images/" + image + "/json").then().statusCode(200).body("RepoTags.size()", equalTo(0));
        c.api().post("/images/prune").then().statusCode(200).body("SpaceReclaimed", equalTo(0));
    }

    private static String hex(char c) {
        return UUID.randomUUID().toString().replace("-", "") + String.valueOf(c).repeat(32);
    }

    private static void awaitRows(String tenant, Predicate<List<String>> expected) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                .until(() -> rows(tenant), expected::test);
    }

    /** The tenant's image_user rows as "container image running", ordered by container id. */
    private static List<String> rows(String tenant) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = PostgresServer.shared().connect(
                ConfigProvider.getConfig().getValue("berth.test.database", String.class));
             PreparedStatement s = c.prepareStatement("select container_id, image_id, running from image_user"
                     + " where tenant = ? order by container_id")) {
            s.setString(1, tenant);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getBoolean(3));
                }
            }
        }
        return out;
    }
}
