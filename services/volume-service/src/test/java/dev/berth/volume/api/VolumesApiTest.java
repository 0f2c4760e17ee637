package dev.berth.volume.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.testing.BerthTestResource;
import dev.berth.testing.PostgresServer;
import dev.berth.testing.TopicReader;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.nullValue;

/** The volume endpoints as a Docker client sees them, over a real PostgreSQL and a real Kafka broker. */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class VolumesApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static RequestSpecification as(String tenant) {
        RequestSpecification spec = given().contentType(ContentType.JSON);
        return tenant == null ? spec : spec.header("X-Berth-Tenant", tenant);
    }

    private static Response create(String tenant, String body) {
        return as(tenant).body(body).post("/volumes/create");
    }

    private static List<String> names(String tenant, String filters) {
        RequestSpecification spec = as(tenant);
        if (filters != null) {
            spec = spec.queryParam("filters", filters);
        }
        return spec.get("/volumes").then().statusCode(200).extract().jsonPath().getList("Volumes.Name");
    }

    private static String tenant() {
        return "t" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void createAnswers201WithDockersVolumeObject() {
        String name = unique("trvol");
        create(null, "{\"Driver\":\"local\",\"Labels\":{\"tr\":\"1\"},\"Name\":\"" + name + "\"}")
                .then().statusCode(201)
                .body("Name", equalTo(name))
                .body("Driver", equalTo("local"))
                .body("Labels.tr", equalTo("1"))
                .body("Mountpoint", equalTo("/var/lib/berth/volumes/" + name + "/_data"))
                .body("Options", nullValue())
                .body("Scope", equalTo("local"))
                .body("CreatedAt", matchesPattern("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"));
        as(null).get("/volumes/" + name).then().statusCode(200).body("Name", equalTo(name))
                .body("Labels.tr", equalTo("1"));
    }

    @Test
    void creatingAnExistingNameReturnsTheExistingVolume() {
        String name = unique("again");
        String first = create(null, "{\"Name\":\"" + name + "\",\"Labels\":{\"v\":\"1\"}}")
                .then().statusCode(201).extract().path("CreatedAt");
        create(null, "{\"Name\":\"" + name + "\",\"Labels\":{\"v\":\"2\"}}").then().statusCode(201)
                .body("CreatedAt", equalTo(first)).body("Labels.v", equalTo("1"));
        assertThat(createdEvents("default/" + name)).isEqualTo(1);
    }

    @Test
    void concurrentCreatesOfOneNameConvergeOnOneVolume() throws Exception {
        String name = unique("race");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Response>> calls = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                calls.add(pool.submit(() -> create(null, "{\"Name\":\"" + name + "\"}")));
            }
            List<String> createdAts = new ArrayList<>();
            for (Future<Response> call : calls) {
                Response r = call.get();
                assertThat(r.statusCode()).isEqualTo(201);
                createdAts.add(r.path("CreatedAt"));
            }
            assertThat(createdAts).containsOnly(createdAts.get(0));
        } finally {
            pool.shutdownNow();
        }
        assertThat(createdEvents("default/" + name)).isEqualTo(1);
    }

    @Test
    void aVolumeWithoutNameGetsARandomNameAndTheAnonymousLabel() {
        create(null, "{}").then().statusCode(201)
                .body("Name", matchesPattern("[0-9a-f]{64}"))
                .body("Labels", hasKey("com.docker.volume.anonymous"));
        given().post("/volumes/create").then().statusCode(201).body("Name", matchesPattern("[0-9a-f]{64}"));
    }

    @Test
    void requestBodiesAreReadLikeDockerReadsThem() {
        String name = unique("lenient");
        create(null, "{\"name\":\"" + name + "\",\"driver\":null,\"DriverOpts\":null,\"Labels\":null,"
                + "\"ClusterVolumeSpec\":{\"Group\":\"g\"},\"SomethingNew\":[1,2]}")
                .then().statusCode(201).body("Name", equalTo(name)).body("Driver", equalTo("local"));
    }

    @Test
    void badInputGetsDockersStatusAndAClearMessage() {
        create(null, "{\"Name\":\"nfsvol\",\"Driver\":\"nfs-plugin\"}").then().statusCode(400)
                .body("message", equalTo("create nfsvol: volume driver \"nfs-plugin\" is not supported: the only"
                        + " driver is \"local\""));
        create(null, "{\"Name\":\"a\"}").then().statusCode(400).body("message", equalTo(
                "create a: volume name is too short, names should be at least two alphanumeric characters"));
        create(null, "{\"Name\":\"../../etc\"}").then().statusCode(400)
                .body("message", matchesPattern(".*includes invalid characters for a local volume name.*"));
        create(null, "{\"Name\":\"opts\",\"DriverOpts\":{\"colour\":\"red\"}}").then().statusCode(400)
                .body("message", equalTo("create opts: invalid option: \"colour\""));
        create(null, "{\"Name\":").then().statusCode(400).body("message", matchesPattern("invalid JSON: .*"));
        as(null).queryParam("filters", "{\"colour\":[\"red\"]}").get("/volumes").then().statusCode(400)
                .body("message", equalTo("invalid filter 'colour'"));
        as(null).queryParam("filters", "not json").get("/volumes").then().statusCode(400);
        as(null).queryParam("force", "maybe").delete("/volumes/x1").then().statusCode(400)
                .body("message", matchesPattern("invalid value for force: .*"));
        as("../evil").get("/volumes").then().statusCode(400);
        // the refused creates left nothing behind
        assertThat(names(null, null)).doesNotContain("nfsvol", "a", "opts");
    }

    @Test
    void inspectAndRemoveOfAMissingVolumeAre404() {
        as(null).get("/volumes/nosuchvol").then().statusCode(404)
                .body("message", equalTo("get nosuchvol: no such volume"));
        as(null).delete("/volumes/nosuchvol").then().statusCode(404)
                .body("message", equalTo("get nosuchvol: no such volume"));
        as(null).queryParam("force", "True").delete("/volumes/nosuchvol").then().statusCode(204);
    }

    @Test
    void removeDeletesTheVolumeAndItCanBeCreatedAgain() {
        String name = unique("gone");
        create(null, "{\"Name\":\"" + name + "\"}").then().statusCode(201);
        as(null).delete("/volumes/" + name).then().statusCode(204);
        as(null).get("/volumes/" + name).then().statusCode(404);
        assertThat(names(null, null)).doesNotContain(name);
        create(null, "{\"Name\":\"" + name + "\"}").then().statusCode(201);
        as(null).get("/volumes/" + name).then().statusCode(200);
    }

    @Test
    void listFiltersInMapAndListForm() {
        String tenant = tenant();
        create(tenant, "{\"Name\":\"web-data\",\"Labels\":{\"app\":\"web\",\"tier\":\"front\"}}").then().statusCode(201);
        create(tenant, "{\"Name\":\"db-data\",\"Labels\":{\"app\":\"db\"}}").then().statusCode(201);
        create(tenant, "{\"Name\":\"scratch\"}").then().statusCode(201);

        assertThat(names(tenant, null)).containsExactly("db-data", "scratch", "web-data");
        assertThat(names(tenant, "{\"label\":{\"app=web\":true}}")).containsExactly("web-data");
        assertThat(names(tenant, "{\"label\":[\"app\"]}")).containsExactly("db-data", "web-data");
        assertThat(names(tenant, "{\"label\":[\"app\",\"tier=front\"]}")).containsExactly("web-data");
        assertThat(names(tenant, "{\"name\":[\"data\"]}")).containsExactly("db-data", "web-data");
        assertThat(names(tenant, "{\"name\":{\"^scr\":true}}")).containsExactly("scratch");
        assertThat(names(tenant, "{\"driver\":[\"local\"]}")).hasSize(3);
        assertThat(names(tenant, "{\"driver\":[\"other\"]}")).isEmpty();
        assertThat(names(tenant, "{\"dangling\":[\"true\"]}")).hasSize(3);
        as(tenant).queryParam("filters", "{\"dangling\":[\"perhaps\"]}").get("/volumes").then().statusCode(400);
        as(tenant).get("/volumes").then().body("Warnings", nullValue());
    }

    @Test
    void pruneRemovesAnonymousVolumesUnlessAllIsAsked() {
        String tenant = tenant();
        String anonymous = create(tenant, "{\"Labels\":{\"sess\":\"1\"}}").then().statusCode(201).extract().path("Name");
        create(tenant, "{\"Name\":\"keep-me\",\"Labels\":{\"sess\":\"1\"}}").then().statusCode(201);
        create(tenant, "{\"Name\":\"other\",\"Labels\":{\"sess\":\"2\"}}").then().statusCode(201);

        as(tenant).post("/volumes/prune").then().statusCode(200)
                .body("VolumesDeleted", equalTo(List.of(anonymous))).body("SpaceReclaimed", equalTo(0));
        assertThat(names(tenant, null)).containsExactly("keep-me", "other");

        as(tenant).queryParam("filters", "{\"label\":[\"sess=1\"],\"all\":[\"true\"]}").post("/volumes/prune")
                .then().statusCode(200).body("VolumesDeleted", equalTo(List.of("keep-me")));
        // an API 1.41 client (docker-compose v1, Testcontainers) prunes named volumes too, as Docker did then
        as(tenant).header("X-Berth-Api-Version", "1.41").queryParam("filters", "{\"label!\":{\"sess=1\":true}}")
                .post("/volumes/prune").then().statusCode(200).body("VolumesDeleted", equalTo(List.of("other")));
        assertThat(names(tenant, null)).isEmpty();
        as(tenant).post("/volumes/prune").then().statusCode(200).body("VolumesDeleted", equalTo(List.of()));
    }

    @Test
    void tenantsNeverSeeEachOthersVolumes() {
        String a = tenant();
        String b = tenant();
        create(a, "{\"Name\":\"shared\",\"Labels\":{\"owner\":\"a\"}}").then().statusCode(201)
                .body("Mountpoint", equalTo("/var/lib/berth/tenants/" + a + "/volumes/shared/_data"));
        assertThat(names(b, null)).isEmpty();
        as(b).get("/volumes/shared").then().statusCode(404);
        as(b).delete("/volumes/shared").then().statusCode(404);

        create(b, "{\"Name\":\"shared\",\"Labels\":{\"owner\":\"b\"}}").then().statusCode(201)
                .body("Labels.owner", equalTo("b"));
        as(b).delete("/volumes/shared").then().statusCode(204);
        as(a).get("/volumes/shared").then().statusCode(200).body("Labels.owner", equalTo("a"));
        as(b).queryParam("filters", "{\"all\":[\"1\"]}").post("/volumes/prune").then().statusCode(200);
        assertThat(names(a, null)).containsExactly("shared");
        // no header at all is the default tenant, which sees neither
        assertThat(names(null, null)).doesNotContain("shared");
    }

    @Test
    void eventsArriveOnKafkaAsCloudEvents() throws Exception {
        String tenant = tenant();
        String name = unique("evt");
        String key = tenant + "/" + name;
        create(tenant, "{\"Name\":\"" + name + "\",\"Labels\":{\"k\":\"v\"}}").then().statusCode(201);
        as(tenant).delete("/volumes/" + name).then().statusCode(204);
        List<Map<String, Object>> logged = events(key);
        assertThat(logged).hasSize(2);

        try (TopicReader topic = new TopicReader(bootstrap(), "berth.volumes.events")) {
            await().atMost(Duration.ofSeconds(60)).until(() -> topic.byKey(key).size() >= 2);
            List<ConsumerRecord<String, String>> records = topic.byKey(key);
            assertThat(records).hasSize(2);

            Map<String, String> created = TopicReader.headers(records.get(0));
            assertThat(created).containsEntry("ce_specversion", "1.0")
                    .containsEntry("ce_id", logged.get(0).get("id").toString())
                    .containsEntry("ce_source", "/volume-service")
                    .containsEntry("ce_type", "dev.berth.volume.created.v1")
                    .containsEntry("ce_subject", key)
                    .containsEntry("ce_tenant", tenant)
                    .containsEntry("ce_sequence", "1")
                    .containsEntry("content-type", "application/json")
                    .containsKeys("ce_time", "ce_correlationid");
            JsonNode body = JSON.readTree(records.get(0).value());
            assertThat(body.get("name").asText()).isEqualTo(name);
            assertThat(body.get("driver").asText()).isEqualTo("local");
            assertThat(body.get("mountpoint").asText()).isEqualTo("/var/lib/berth/tenants/" + tenant + "/volumes/" + name + "/_data");
            assertThat(body.get("labels").get("k").asText()).isEqualTo("v");

            Map<String, String> removed = TopicReader.headers(records.get(1));
            assertThat(removed).containsEntry("ce_type", "dev.berth.volume.removed.v1")
                    .containsEntry("ce_sequence", "2")
                    .containsEntry("ce_id", logged.get(1).get("id").toString());
        }
    }

    @Test
    void replayRebuildsTheSameReadModel() throws Exception {
        String tenant = tenant();
        create(tenant, "{\"Name\":\"r1\",\"Labels\":{\"a\":\"1\"},\"DriverOpts\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\"}}")
                .then().statusCode(201);
        create(tenant, "{\"Name\":\"r2\"}").then().statusCode(201);
        create(tenant, "{\"Name\":\"r3\"}").then().statusCode(201);
        as(tenant).delete("/volumes/r2").then().statusCode(204);
        create(tenant, "{}").then().statusCode(201);

        List<List<Object>> before = readModel();
        String apiBefore = as(tenant).get("/volumes").then().statusCode(200).extract().asString();
        long replayed = given().post("/_berth/replay").then().statusCode(200).extract().jsonPath().getLong("events");
        assertThat(replayed).isGreaterThanOrEqualTo(6);
        assertThat(readModel()).isEqualTo(before);
        assertThat(as(tenant).get("/volumes").then().statusCode(200).extract().asString()).isEqualTo(apiBefore);
        as(tenant).get("/volumes/r1").then().statusCode(200).body("Options.type", equalTo("tmpfs"));
    }

    @Test
    void healthIsUpWithDatabaseAndKafka() {
        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP")));
    }

    // --- the service's own database, read directly to check what was logged ---

    private static String bootstrap() {
        return ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
    }

    private static Connection database() throws Exception {
        String db = ConfigProvider.getConfig().getValue("berth.test.database", String.class);
        return PostgresServer.shared().connect(db);
    }

    private static int createdEvents(String aggregateId) {
        try (Connection c = database(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from events where type = 'dev.berth.volume.created.v1'"
                     + " and aggregate_id = '" + aggregateId.replace("'", "''") + "'")) {
            rs.next();
            return rs.getInt(1);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<Map<String, Object>> events(String aggregateId) throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        try (Connection c = database(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select id, type, version from events where aggregate_id = '"
                     + aggregateId.replace("'", "''") + "' order by version")) {
            while (rs.next()) {
                out.add(Map.of("id", rs.getObject("id"), "type", rs.getString("type"), "version", rs.getLong("version")));
            }
        }
        return out;
    }

    private static List<List<Object>> readModel() throws Exception {
        List<List<Object>> rows = new ArrayList<>();
        try (Connection c = database(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select id, tenant, name, driver, mountpoint, created_at, labels_json,"
                     + " options_json from volume_view order by id")) {
            while (rs.next()) {
                List<Object> row = new ArrayList<>();
                for (int i = 1; i <= 8; i++) {
                    row.add(rs.getObject(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }
}
