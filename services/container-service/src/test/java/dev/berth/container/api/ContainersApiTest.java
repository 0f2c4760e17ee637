package dev.berth.container.api;

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

/** The container-service skeleton: its read model behind GET /containers/json, health, and replay. */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class ContainersApiTest {

    @Test
    void listReadsTheTenantsRowsOfTheReadModelAndReplayRebuildsItFromTheLog() throws Exception {
        given().queryParam("all", "1").get("/containers/json").then().statusCode(200).body(equalTo("[]"));

        // Rows that no event backs: the list shows what the read model holds, per tenant ...
        try (Connection c = database(); Statement s = c.createStatement()) {
            s.execute("insert into container_view (id, tenant, name, image, image_id, created_at, state, status,"
                    + " labels_json, summary_json) values"
                    + " ('" + "c1".repeat(32) + "', 'default', 'web', 'busybox:local', 'sha256:x', now(), 'running',"
                    + " 'Up 1 second', '{\"tr\":\"1\"}', '{\"Ports\":[],\"Mounts\":[]}'),"
                    + " ('" + "c2".repeat(32) + "', 'default', 'old', 'busybox:local', 'sha256:x', now(), 'exited',"
                    + " 'Exited (0) 1 second ago', '{}', '{}')");
        }
        given().get("/containers/json").then().statusCode(200).body("$", hasSize(1))
                .body("[0].Names", equalTo(List.of("/web"))).body("[0].State", equalTo("running"))
                .body("[0].Labels.tr", equalTo("1")).body("[0].Ports", hasSize(0));
        given().queryParam("all", "true").get("/containers/json").then().body("$", hasSize(2));
        given().queryParam("filters", "{\"status\":[\"exited\"]}").get("/containers/json").then()
                .body("$", hasSize(1)).body("[0].Names[0]", equalTo("/old"));
        given().queryParam("all", "1").queryParam("filters", "{\"label\":{\"tr=1\":true}}").get("/containers/json")
                .then().body("$", hasSize(1));
        given().header("X-Berth-Tenant", "other").queryParam("all", "1").get("/containers/json").then()
                .body("$", hasSize(0));

        // ... and a replay rebuilds it from the log alone, where those rows have no event
        given().post("/_berth/replay").then().statusCode(200).body("events", equalTo(0));
        given().queryParam("all", "1").get("/containers/json").then().statusCode(200).body("$", hasSize(0));
    }

    @Test
    void badQueriesAre400() {
        given().queryParam("filters", "{\"colour\":[\"red\"]}").get("/containers/json").then().statusCode(400)
                .body("message", equalTo("invalid filter 'colour'"));
        given().queryParam("filters", "{\"status\":[\"sleepy\"]}").get("/containers/json").then().statusCode(400)
                .body("message", equalTo("invalid filter 'status=sleepy'"));
        given().queryParam("all", "maybe").get("/containers/json").then().statusCode(400);
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
