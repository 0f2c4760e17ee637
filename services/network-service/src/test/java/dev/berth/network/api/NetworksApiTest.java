package dev.berth.network.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.testing.BerthTestResource;
import dev.berth.testing.PostgresServer;
import dev.berth.testing.TopicReader;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
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
import static org.hamcrest.Matchers.anEmptyMap;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.nullValue;

/** The network endpoints as a Docker client sees them, over a real PostgreSQL and a real Kafka broker. */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class NetworksApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String tenant() {
        return "t" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static RequestSpecification as(String tenant) {
        RequestSpecification spec = given().contentType(ContentType.JSON);
        return tenant == null ? spec : spec.header("X-Berth-Tenant", tenant);
    }

    private static Response create(String tenant, String body) {
        return as(tenant).body(body).post("/networks/create");
    }

    private static String createOk(String tenant, String body) {
        return create(tenant, body).then().statusCode(201).body("Warning", equalTo(""))
                .body("Id", matchesPattern("[0-9a-f]{64}")).extract().path("Id");
    }

    private static List<String> names(String tenant, String filters) {
        RequestSpecification spec = as(tenant);
        if (filters != null) {
            spec = spec.queryParam("filters", filters);
        }
        return spec.get("/networks").then().statusCode(200).extract().jsonPath().getList("Name");
    }

    private static String subnetOf(String tenant, String idOrName) {
        return as(tenant).get("/networks/" + idOrName).then().statusCode(200).extract().path("IPAM.Config[0].Subnet");
    }

    @Test
    void createAsTheDockerCliDoesThenInspectByNameIdAndPrefix() {
        String tenant = tenant();
        String id = createOk(tenant, "{\"Driver\":\"bridge\",\"Scope\":\"\",\"IPAM\":{\"Driver\":\"default\","
                + "\"Options\":{},\"Config\":[]},\"Internal\":false,\"Attachable\":false,\"Ingress\":false,"
                + "\"ConfigOnly\":false,\"ConfigFrom\":null,\"Options\":{},\"Labels\":{\"tr\":\"1\"},"
                + "\"Name\":\"trnet\",\"CheckDuplicate\":true}");
        for (String term : List.of("trnet", id, id.substring(0, 12))) {
            JsonPath n = as(tenant).get("/networks/" + term).then().statusCode(200).extract().jsonPath();
            assertThat(n.getString("Name")).isEqualTo("trnet");
            assertThat(n.getString("Id")).isEqualTo(id);
            assertThat(n.getString("Scope")).isEqualTo("local");
            assertThat(n.getString("Driver")).isEqualTo("bridge");
            assertThat(n.getBoolean("EnableIPv6")).isFalse();
            assertThat(n.getString("IPAM.Driver")).isEqualTo("default");
            assertThat(n.getString("IPAM.Config[0].Subnet")).isEqualTo("172.18.0.0/16");
            assertThat(n.getString("IPAM.Config[0].Gateway"))
                    .isEqualTo(n.getString("IPAM.Config[0].Subnet").replace("0/16", "1"));
            assertThat(n.getMap("Labels")).isEqualTo(Map.of("tr", "1"));
            assertThat(n.getMap("Containers")).isEmpty();
            assertThat(n.getString("ConfigFrom.Network")).isEmpty();
            assertThat(n.getString("Created")).isNotEmpty();
        }
    }

    @Test
    void anExplicitSubnetAndGatewayAreHonouredAndOverlapsRefused() {
        String tenant = tenant();
        String id = createOk(tenant, "{\"Name\":\"trnet2\",\"IPAM\":{\"Driver\":\"default\",\"Options\":{},"
                + "\"Config\":[{\"Subnet\":\"10.77.0.0/24\",\"Gateway\":\"10.77.0.254\"}]}}");
        as(tenant).get("/networks/" + id).then().statusCode(200)
                .body("IPAM.Config[0].Subnet", equalTo("10.77.0.0/24"))
                .body("IPAM.Config[0].Gateway", equalTo("10.77.0.254"));
        create(tenant, "{\"Name\":\"clash\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.77.0.128/25\"}]}}")
                .then().statusCode(403)
                .body("message", equalTo("invalid pool request: Pool overlaps with other one on this address space"));
        create(tenant, "{\"Name\":\"badgw\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.78.0.0/24\",\"Gateway\":\"10.79.0.1\"}]}}")
                .then().statusCode(400).body("message", equalTo("no matching subnet for gateway 10.79.0.1"));
        create(tenant, "{\"Name\":\"badnet\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.78.0.0/33\"}]}}")
                .then().statusCode(400).body("message", equalTo("invalid CIDR address: 10.78.0.0/33"));
        assertThat(names(tenant, null)).doesNotContain("clash", "badgw", "badnet");
    }

    @Test
    void aDuplicateNameIsAConflict() {
        String tenant = tenant();
        createOk(tenant, "{\"Name\":\"dup\"}");
        create(tenant, "{\"Name\":\"dup\",\"CheckDuplicate\":true}").then().statusCode(409)
                .body("message", equalTo("network with name dup already exists"));
        assertThat(names(tenant, "{\"name\":[\"^dup$\"]}")).containsExactly("dup");
    }

    @Test
    void concurrentCreatesGetDistinctSubnetsAndOneNameWinsOnce() throws Exception {
        String tenant = tenant();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<Response>> distinct = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                String name = "par" + i;
                distinct.add(pool.submit(() -> create(tenant, "{\"Name\":\"" + name + "\"}")));
            }
            List<String> subnets = new ArrayList<>();
            for (Future<Response> f : distinct) {
                Response r = f.get();
                assertThat(r.statusCode()).as(r.asString()).isEqualTo(201);
                subnets.add(subnetOf(tenant, r.path("Id")));
            }
            assertThat(subnets).doesNotHaveDuplicates();

            List<Future<Response>> same = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                same.add(pool.submit(() -> create(tenant, "{\"Name\":\"only-once\"}")));
            }
            List<Integer> statuses = new ArrayList<>();
            for (Future<Response> f : same) {
                statuses.add(f.get().statusCode());
            }
            assertThat(statuses).containsOnlyOnce(201).containsOnly(201, 409);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void everyTenantHasThePredefinedNetworks() {
        String tenant = tenant();
        JsonPath all = as(tenant).get("/networks").then().statusCode(200).extract().jsonPath();
        assertThat(all.getList("Name")).containsExactly("bridge", "host", "none");
        assertThat(all.getList("Driver")).containsExactly("bridge", "host", "null");
        as(null).get("/networks/bridge").then().statusCode(200)
                .body("IPAM.Config[0].Subnet", equalTo("172.17.0.0/16"))
                .body("IPAM.Config[0].Gateway", equalTo("172.17.0.1"))
                .body("Options.'com.docker.network.bridge.default_bridge'", equalTo("true"));
        // every tenant has an address space of its own, as if it had its own daemon
        assertThat(subnetOf(tenant, "bridge")).isEqualTo("172.17.0.0/16");
        String bridgeId = as(tenant).get("/networks/bridge").then().extract().path("Id");
        assertThat(bridgeId).isNotEqualTo(as(null).get("/networks/bridge").then().extract().path("Id"));
        assertThat(as(tenant).get("/networks").then().extract().jsonPath().getList("Id"))
                .isEqualTo(all.getList("Id"));

        as(tenant).delete("/networks/bridge").then().statusCode(403)
                .body("message", equalTo("bridge is a pre-defined network and cannot be removed"));
        as(tenant).delete("/networks/" + bridgeId).then().statusCode(403);
        as(tenant).delete("/networks/host").then().statusCode(403)
                .body("message", equalTo("host is a pre-defined network and cannot be removed"));
        create(tenant, "{\"Name\":\"none\"}").then().statusCode(403)
                .body("message", equalTo("operation is not permitted on predefined none network"));
        create(tenant, "{\"Name\":\"myhost\",\"Driver\":\"host\"}").then().statusCode(403)
                .body("message", equalTo("only one instance of \"host\" network is allowed"));
    }

    @Test
    void missingNetworksAre404() {
        as(null).get("/networks/nosuchnet").then().statusCode(404)
                .body("message", equalTo("network nosuchnet not found"));
        as(null).delete("/networks/nosuchnet").then().statusCode(404)
                .body("message", equalTo("network nosuchnet not found"));
    }

    @Test
    void removeFreesTheNameAndTheSubnet() {
        String tenant = tenant();
        String id = createOk(tenant, "{\"Name\":\"tmpnet\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.91.0.0/16\"}]}}");
        as(tenant).delete("/networks/tmpnet").then().statusCode(204);
        as(tenant).get("/networks/" + id).then().statusCode(404);
        createOk(tenant, "{\"Name\":\"tmpnet\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.91.0.0/16\"}]}}");
    }

    @Test
    void listFiltersInMapAndListForm() {
        String tenant = tenant();
        String webId = createOk(tenant, "{\"Name\":\"web-net\",\"Labels\":{\"app\":\"web\"}}");
        createOk(tenant, "{\"Name\":\"db-net\",\"Labels\":{\"app\":\"db\",\"tier\":\"back\"}}");

        assertThat(names(tenant, "{\"label\":{\"app=web\":true}}")).containsExactly("web-net");
        assertThat(names(tenant, "{\"label\":[\"app\"]}")).containsExactlyInAnyOrder("web-net", "db-net");
        assertThat(names(tenant, "{\"name\":[\"-net\"]}")).containsExactlyInAnyOrder("web-net", "db-net");
        assertThat(names(tenant, "{\"id\":[\"" + webId + "\"]}")).containsExactly("web-net");
        assertThat(names(tenant, "{\"type\":[\"custom\"]}")).containsExactlyInAnyOrder("web-net", "db-net");
        assertThat(names(tenant, "{\"type\":{\"builtin\":true}}")).containsExactly("bridge", "host", "none");
        assertThat(names(tenant, "{\"driver\":[\"null\"]}")).containsExactly("none");
        assertThat(names(tenant, "{\"dangling\":[\"true\"]}")).containsExactlyInAnyOrder("web-net", "db-net");
        as(tenant).queryParam("filters", "{\"type\":[\"weird\"]}").get("/networks").then().statusCode(400)
                .body("message", equalTo("invalid filter: 'type'='weird'"));
        as(tenant).queryParam("filters", "{\"colour\":[\"x\"]}").get("/networks").then().statusCode(400)
                .body("message", equalTo("invalid filter 'colour'"));
    }

    @Test
    void pruneRemovesUnusedUserNetworksOnly() {
        String tenant = tenant();
        createOk(tenant, "{\"Name\":\"p1\",\"Labels\":{\"org.testcontainers.sessionId\":\"s1\"}}");
        createOk(tenant, "{\"Name\":\"p2\",\"Labels\":{\"org.testcontainers.sessionId\":\"s2\"}}");
        as(tenant).queryParam("filters", "{\"label\":[\"org.testcontainers.sessionId=s1\"]}").post("/networks/prune")
                .then().statusCode(200).body("NetworksDeleted", equalTo(List.of("p1")));
        as(tenant).queryParam("filters", "{\"until\":[\"1h\"]}").post("/networks/prune")
                .then().statusCode(200).body("NetworksDeleted", nullValue());
        as(tenant).post("/networks/prune").then().statusCode(200).body("NetworksDeleted", equalTo(List.of("p2")));
        as(tenant).post("/networks/prune").then().statusCode(200).body("NetworksDeleted", nullValue());
        assertThat(names(tenant, null)).containsExactly("bridge", "host", "none");
    }

    @Test
    void tenantsNeverSeeEachOthersNetworks() {
        String a = tenant();
        String b = tenant();
        String idA = createOk(a, "{\"Name\":\"mine\"}");
        assertThat(names(b, null)).doesNotContain("mine");
        as(b).get("/networks/" + idA).then().statusCode(404);
        as(b).get("/networks/" + idA.substring(0, 12)).then().statusCode(404);
        as(b).delete("/networks/" + idA).then().statusCode(404);
        String idB = createOk(b, "{\"Name\":\"mine\",\"IPAM\":{\"Config\":[{\"Subnet\":\"" + subnetOf(a, idA) + "\"}]}}");
        assertThat(idB).isNotEqualTo(idA);
        assertThat(subnetOf(b, idB)).isEqualTo(subnetOf(a, idA));
        as(a).get("/networks/mine").then().statusCode(200).body("Id", equalTo(idA));
    }

    @Test
    void requestBodiesAreReadLikeDockerReadsThem() {
        String tenant = tenant();
        // Testcontainers' body: explicit nulls, both spellings of EnableIPv6
        createOk(tenant, "{\"Name\":\"tc-net\",\"Options\":{},\"CheckDuplicate\":true,\"Labels\":{\"org.testcontainers\":\"true\"},"
                + "\"Driver\":null,\"IPAM\":null,\"Internal\":null,\"EnableIPv6\":null,\"enableIPv6\":null,\"Attachable\":null}");
        createOk(tenant, "{\"name\":\"lower-net\",\"labels\":{\"x\":\"y\"},\"Unknown\":{\"a\":1}}");
        as(tenant).get("/networks/lower-net").then().statusCode(200).body("Labels.x", equalTo("y"))
                .body("Options", anEmptyMap());
        create(tenant, "{\"Name\":").then().statusCode(400).body("message", matchesPattern("invalid JSON: .*"));
        create(tenant, "{\"Name\":\"ov\",\"Driver\":\"overlay\"}").then().statusCode(400);
    }

    @Test
    void eventsArriveOnKafkaAsCloudEvents() throws Exception {
        String tenant = tenant();
        String id = createOk(tenant, "{\"Name\":\"evnet\",\"Labels\":{\"k\":\"v\"}}");
        as(tenant).delete("/networks/" + id).then().statusCode(204);
        List<String> eventIds = eventIds(id);
        assertThat(eventIds).hasSize(2);
        try (TopicReader topic = new TopicReader(bootstrap(), "berth.networks.events")) {
            await().atMost(Duration.ofSeconds(60)).until(() -> topic.byKey(id).size() >= 2);
            List<ConsumerRecord<String, String>> records = topic.byKey(id);
            assertThat(records).hasSize(2);
            assertThat(TopicReader.headers(records.get(0))).containsEntry("ce_specversion", "1.0")
                    .containsEntry("ce_id", eventIds.get(0))
                    .containsEntry("ce_type", "dev.berth.network.created.v1")
                    .containsEntry("ce_source", "/network-service")
                    .containsEntry("ce_subject", id)
                    .containsEntry("ce_tenant", tenant)
                    .containsEntry("ce_sequence", "1");
            JsonNode body = JSON.readTree(records.get(0).value());
            assertThat(body.get("name").asText()).isEqualTo("evnet");
            assertThat(body.get("ipam").get(0).get("subnet").asText()).isEqualTo(
                    JSON.readTree(records.get(0).value()).get("ipam").get(0).get("subnet").asText()).isNotEmpty();
            assertThat(TopicReader.headers(records.get(1))).containsEntry("ce_type", "dev.berth.network.removed.v1")
                    .containsEntry("ce_id", eventIds.get(1)).containsEntry("ce_sequence", "2");
        }
    }

    @Test
    void replayRebuildsTheSameReadModel() throws Exception {
        String tenant = tenant();
        createOk(tenant, "{\"Name\":\"ra\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.66.0.0/24\",\"IPRange\":\"10.66.0.128/25\"}]}}");
        String gone = createOk(tenant, "{\"Name\":\"rb\"}");
        createOk(tenant, "{\"Name\":\"rc\",\"Internal\":true,\"Attachable\":true}");
        as(tenant).delete("/networks/" + gone).then().statusCode(204);

        List<List<Object>> before = rows("select id, tenant, name, driver, predefined, created_at, data_json"
                + " from network_view order by id");
        List<List<Object>> subnetsBefore = rows("select network_id, cast(subnet as text) from network_subnet"
                + " order by network_id, subnet");
        String apiBefore = as(tenant).get("/networks").then().statusCode(200).extract().asString();
        given().post("/_berth/replay").then().statusCode(200);
        assertThat(rows("select id, tenant, name, driver, predefined, created_at, data_json from network_view"
                + " order by id")).isEqualTo(before);
        assertThat(rows("select network_id, cast(subnet as text) from network_subnet order by network_id, subnet"))
                .isEqualTo(subnetsBefore);
        assertThat(as(tenant).get("/networks").then().statusCode(200).extract().asString()).isEqualTo(apiBefore);
        as(tenant).get("/networks/ra").then().body("IPAM.Config[0].IPRange", equalTo("10.66.0.128/25"));
        as(tenant).get("/networks/rc").then().body("Internal", equalTo(true)).body("Attachable", equalTo(true));
    }

    @Test
    void healthIsUpWithDatabaseAndKafka() {
        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP")));
    }

    private static String bootstrap() {
        return ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
    }

    private static Connection database() throws Exception {
        return PostgresServer.shared().connect(ConfigProvider.getConfig().getValue("berth.test.database", String.class));
    }

    private static List<String> eventIds(String aggregateId) throws Exception {
        List<String> ids = new ArrayList<>();
        for (List<Object> row : rows("select id from events where aggregate_id = '" + aggregateId + "' order by version")) {
            ids.add(row.get(0).toString());
        }
        return ids;
    }

    private static List<List<Object>> rows(String sql) throws Exception {
        List<List<Object>> rows = new ArrayList<>();
        try (Connection c = database(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<Object> row = new ArrayList<>();
                for (int i = 1; i <= columns; i++) {
                    row.add(rs.getObject(i));
                }
                rows.add(row);
            }
        }
        return rows;
    }
}
