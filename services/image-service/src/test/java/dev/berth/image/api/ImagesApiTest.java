package dev.berth.image.api;

import dev.berth.testing.BerthTestResource;
import dev.berth.testing.PostgresServer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

/** The image-service skeleton: its read model behind GET /images/json, health, and replay. */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class ImagesApiTest {

    @Test
    void listReadsTheTenantsRowsOfTheReadModelAndReplayRebuildsItFromTheLog() throws Exception {
        given().get("/images/json").then().statusCode(200).body("$", hasSize(0)).body(equalTo("[]"));

        // A row that no event backs: the list shows what the read model holds, per tenant ...
        try (Connection c = database(); Statement s = c.createStatement()) {
            s.execute("insert into image_view (id, tenant, repo_tags, created_at, size, labels_json) values"
                    + " ('sha256:" + "ab".repeat(32) + "', 'default', '[\"busybox:local\"]', now(), 4096, '{\"a\":\"b\"}')");
        }
        given().get("/images/json").then().statusCode(200).body("$", hasSize(1))
                .body("[0].RepoTags", equalTo(List.of("busybox:local"))).body("[0].Size", equalTo(4096))
                .body("[0].Labels.a", equalTo("b"));
        given().queryParam("filters", "{\"label\":[\"a=c\"]}").get("/images/json").then().body("$", hasSize(0));
        given().queryParam("filters", "{\"dangling\":{\"true\":true}}").get("/images/json").then().body("$", hasSize(0));
        given().header("X-Berth-Tenant", "other").get("/images/json").then().statusCode(200).body("$", hasSize(0));

        // ... and a replay rebuilds it from the log alone, where that row has no event
        given().post("/_berth/replay").then().statusCode(200).body("events", equalTo(0));
        given().get("/images/json").then().statusCode(200).body("$", hasSize(0));
    }

    @Test
    void badQueriesAre400() {
        given().queryParam("filters", "{\"colour\":[\"red\"]}").get("/images/json").then().statusCode(400)
                .body("message", equalTo("invalid filter 'colour'"));
        given().queryParam("all", "yes please").get("/images/json").then().statusCode(400);
        given().get("/images/nothing/here").then().statusCode(404).body("message", equalTo("page not found"));
    }

    @Test
    void healthIsUpWithDatabaseAndKafka() {
        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP")));
    }

    private static Connection database() throws Exception {
        return PostgresServer.shared().connect(ConfigProvider.getConfig().getValue("berth.test.database", String.class));
    }
}
