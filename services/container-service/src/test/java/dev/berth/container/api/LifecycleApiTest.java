package dev.berth.container.api;

import dev.berth.container.node.NodeFixture;
import dev.berth.container.node.NodeTestResource;
import dev.berth.testing.BerthTestResource;
import dev.berth.testing.PostgresServer;
import dev.berth.testing.TopicReader;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;

/**
 * Containers run for real: container-service schedules them on a node agent in the test JVM (real kernel, real
 * Kafka, real PostgreSQL) and answers as Docker does. After each test every container is removed through the API and
 * nothing of it is left on the node.
 */
@QuarkusTest
@QuarkusTestResource(BerthTestResource.class)
@QuarkusTestResource(NodeTestResource.class)
class LifecycleApiTest {

    private static final String CONFIG = "{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],"
            + "\"Cmd\":[\"sh\"],\"Labels\":{\"img\":\"bb\"}}";
    private static final List<String> TENANTS = new CopyOnWriteArrayList<>();
    private static ImagePublisher images;

    @BeforeAll
    static void publisher() {
        images = new ImagePublisher(ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
    }

    @AfterAll
    static void closePublisher() {
        images.close();
    }

    @AfterEach
    void removeContainers() {
        for (String t : TENANTS) {
            for (String id : as(t).queryParam("all", "1").get("/containers/json").then().statusCode(200).extract()
                    .jsonPath().<String>getList("Id")) {
                as(t).queryParam("force", "1").delete("/containers/" + id).then().statusCode(204);
            }
        }
        TENANTS.clear();
        NodeFixture.assertNodeEmpty();
    }

    /** A tenant with the busybox image as {@code bb:1}. */
    private static String tenant() throws Exception {
        String tenant = "t" + UUID.randomUUID().toString().substring(0, 8);
        TENANTS.add(tenant);
        String id = "sha256:" + (UUID.randomUUID().toString() + UUID.randomUUID()).replace("-", "");
        images.send(tenant, "dev.berth.image.imported.v1", "{\"imageId\":\"" + id + "\",\"configDigest\":\"" + id
                + "\",\"layers\":" + NodeFixture.layersJson() + ",\"config\":" + CONFIG + ",\"architecture\":\"amd64\","
                + "\"os\":\"linux\",\"created\":\"2026-11-30T00:11:26.352460757Z\",\"size\":1,\"repoTags\":[\"bb:1\"]}");
        await().atMost(Duration.ofSeconds(60)).until(() -> count("select count(*) from image_ref where tenant = '"
                + tenant + "'") == 1);
        return tenant;
    }

    private static RequestSpecification as(String tenant) {
        return given().contentType(ContentType.JSON).header("X-Berth-Tenant", tenant);
    }

    private static String create(String tenant, String name, String body) {
        RequestSpecification spec = as(tenant);
        if (name != null) {
            spec = spec.queryParam("name", name);
        }
        return spec.body(body).post("/containers/create").then().statusCode(201).extract().path("Id");
    }

    private static String cmd(String... words) {
        StringBuilder b = new StringBuilder("[");
        for (String w : words) {
            b.append(b.length() > 1 ? "," : "").append('"').append(w.replace("\"", "\\\"")).append('"');
        }
        return b.append(']').toString();
    }

    private static Response inspect(String tenant, String ref) {
        return as(tenant).get("/containers/" + ref + "/json");
    }

    @Test
    void runWaitsForTheExitCodeWithHeadersSentBeforeTheStart() throws Exception {
        String tenant = tenant();
        String id = create(tenant, "exit3", "{\"Image\":\"bb:1\",\"Cmd\":" + cmd("sh", "-c", "echo hi; exit 3") + "}");
        try (RawWait wait = new RawWait(RestAssured.port, tenant, id, "next-exit")) {
            // docker run opens the wait before the start and blocks on these headers
            assertThat(wait.head()).startsWith("HTTP/1.1 200").containsIgnoringCase("transfer-encoding: chunked");
            as(tenant).post("/containers/" + id + "/start").then().statusCode(204);
            assertThat(wait.body()).isEqualTo("{\"Error\":null,\"StatusCode\":3}");
        }
        inspect(tenant, "exit3").then().statusCode(200).body("State.Status", equalTo("exited"))
                .body("State.Running", equalTo(false)).body("State.ExitCode", equalTo(3)).body("State.Pid", equalTo(0))
                .body("State.StartedAt", not(equalTo("0001-01-01T00:00:00Z")))
                .body("State.FinishedAt", not(equalTo("0001-01-01T00:00:00Z")));
        as(tenant).queryParam("all", "1").get("/containers/json").then().statusCode(200)
                .body("[0].State", equalTo("exited"))
                .body("[0].Status", matchesPattern("Exited \\(3\\) (Less than a second|\\d+ seconds?) ago"));
        // a wait on a container that already stopped answers at once (not-running)
        try (RawWait again = new RawWait(RestAssured.port, tenant, "exit3", null)) {
            assertThat(again.body()).isEqualTo("{\"Error\":null,\"StatusCode\":3}");
        }
        as(tenant).queryParam("filters", "{\"exited\":[\"3\"]}").queryParam("all", "1").get("/containers/json")
                .then().body("Id", equalTo(List.of(id)));
        try (RawWait missing = new RawWait(RestAssured.port, tenant, "nothere", null)) {
            assertThat(missing.head()).startsWith("HTTP/1.1 404");
            assertThat(missing.body()).contains("No such container: nothere");
        }
    }

    @Test
    void stopIs204ThenNotModifiedAndKillOfAStoppedOneIs409() throws Exception {
        String tenant = tenant();
        String id = create(tenant, "sleeper", "{\"Image\":\"bb:1\",\"Cmd\":" + cmd("sleep", "300") + "}");
        as(tenant).post("/containers/sleeper/start").then().statusCode(204);
        as(tenant).post("/containers/sleeper/start").then().statusCode(304);
        // docker ps right after the start shows it running
        as(tenant).get("/containers/json").then().statusCode(200).body("Id", equalTo(List.of(id)))
                .body("[0].Status", matchesPattern("Up (Less than a second|\\d+ seconds?)"));
        inspect(tenant, id).then().body("State.Running", equalTo(true)).body("State.Pid", greaterThan(0));
        // sleep as PID 1 ignores SIGTERM: SIGKILL after the timeout
        as(tenant).queryParam("t", "1").post("/containers/sleeper/stop").then().statusCode(204);
        inspect(tenant, id).then().body("State.Status", equalTo("exited")).body("State.ExitCode", equalTo(137));
        as(tenant).queryParam("t", "1").post("/containers/sleeper/stop").then().statusCode(304);
        as(tenant).post("/containers/sleeper/kill").then().statusCode(409).body("message",
                equalTo("Cannot kill container: sleeper: Container " + id + " is not running"));
        as(tenant).queryParam("signal", "NOPE").post("/containers/sleeper/kill").then().statusCode(400)
                .body("message", equalTo("Invalid signal: NOPE"));
        as(tenant).post("/containers/nothere/stop").then().statusCode(404)
                .body("message", equalTo("No such container: nothere"));

        String bootstrap = ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
        try (TopicReader reader = new TopicReader(bootstrap, "berth.containers.events")) {
            await().atMost(Duration.ofSeconds(60)).until(() -> reader.byKey(tenant + "/containers").size() >= 4);
            List<ConsumerRecord<String, String>> records = reader.byKey(tenant + "/containers");
            assertThat(records).extracting(r -> TopicReader.headers(r).get("ce_type")).containsExactly(
                    "dev.berth.container.created.v1", "dev.berth.container.started.v1",
                    "dev.berth.container.died.v1", "dev.berth.container.stopped.v1");
            var json = new com.fasterxml.jackson.databind.ObjectMapper();
            var started = json.readTree(records.get(1).value());
            assertThat(started.path("name").asText()).isEqualTo("sleeper");
            assertThat(started.path("image").asText()).isEqualTo("bb:1");
            assertThat(started.path("labels").path("img").asText()).isEqualTo("bb");
            assertThat(started.path("nodeId").asText()).isEqualTo(NodeFixture.nodeId());
            assertThat(started.path("network").path("ipAddress").asText()).startsWith("10.201.20.");
            var died = json.readTree(records.get(2).value());
            assertThat(died.path("exitCode").asInt()).isEqualTo(137);
            assertThat(died.path("willRestart").asBoolean()).isFalse();
        }
    }

    @Test
    void stopAndRestartSendTheSignalAsked() throws Exception {
        String tenant = tenant();
        // PID 1 ignores SIGTERM without a handler: only the USR1 trap ends it before the timeout, with 7
        String id = create(tenant, "trapper", "{\"Image\":\"bb:1\",\"Cmd\":"
                + cmd("sh", "-c", "trap 'exit 7' USR1; while :; do sleep 0.1; done") + "}");
        as(tenant).post("/containers/trapper/start").then().statusCode(204);
        as(tenant).queryParam("signal", "NOPE").post("/containers/trapper/stop").then().statusCode(400)
                .body("message", equalTo("Invalid signal: NOPE"));
        inspect(tenant, id).then().body("State.Running", equalTo(true));
        as(tenant).queryParam("signal", "SIGUSR1").queryParam("t", "30").post("/containers/trapper/stop")
                .then().statusCode(204);
        inspect(tenant, id).then().body("State.Status", equalTo("exited")).body("State.ExitCode", equalTo(7));

        as(tenant).post("/containers/trapper/start").then().statusCode(204);
        as(tenant).queryParam("signal", "USR1").queryParam("t", "30").post("/containers/trapper/restart")
                .then().statusCode(204);
        inspect(tenant, id).then().body("State.Running", equalTo(true));
        String bootstrap = ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        try (TopicReader reader = new TopicReader(bootstrap, "berth.containers.events")) {
            await().atMost(Duration.ofSeconds(60)).until(() -> reader.byKey(tenant + "/containers").stream()
                    .filter(r -> "dev.berth.container.died.v1".equals(TopicReader.headers(r).get("ce_type")))
                    .count() >= 2);
            List<Integer> exits = reader.byKey(tenant + "/containers").stream()
                    .filter(r -> "dev.berth.container.died.v1".equals(TopicReader.headers(r).get("ce_type")))
                    .map(r -> {
                        try {
                            return json.readTree(r.value()).path("exitCode").asInt();
                        } catch (java.io.IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }).toList();
            // the stop's exit, then the restart's: both ended by the trap, not by SIGKILL after 30 s
            assertThat(exits).containsExactly(7, 7);
        }
    }

    @Test
    void autoRemoveEndsTheWaitForRemovalAndFreesTheName() throws Exception {
        String tenant = tenant();
        String body = "{\"Image\":\"bb:1\",\"Cmd\":" + cmd("sh", "-c", "exit 0") + ",\"HostConfig\":{\"AutoRemove\":true}}";
        String id = create(tenant, "once", body);
        try (RawWait wait = new RawWait(RestAssured.port, tenant, id, "removed")) {
            assertThat(wait.head()).startsWith("HTTP/1.1 200");
            as(tenant).post("/containers/" + id + "/start").then().statusCode(204);
            assertThat(wait.body()).isEqualTo("{\"Error\":null,\"StatusCode\":0}");
        }
        inspect(tenant, id).then().statusCode(404);
        as(tenant).queryParam("all", "1").get("/containers/json").then().body("Id", equalTo(List.of()));
        create(tenant, "once", body);

        String bootstrap = ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
        try (TopicReader reader = new TopicReader(bootstrap, "berth.containers.events")) {
            await().atMost(Duration.ofSeconds(60)).until(() -> reader.byKey(tenant + "/containers").size() >= 5);
            List<ConsumerRecord<String, String>> records = reader.byKey(tenant + "/containers");
            assertThat(records).extracting(r -> TopicReader.headers(r).get("ce_type")).startsWith(
                    "dev.berth.container.created.v1", "dev.berth.container.started.v1",
                    "dev.berth.container.died.v1", "dev.berth.container.removed.v1",
                    "dev.berth.container.created.v1");
            var removed = new com.fasterxml.jackson.databind.ObjectMapper().readTree(records.get(3).value());
            assertThat(removed.path("containerId").asText()).isEqualTo(id);
            assertThat(removed.path("name").asText()).isEqualTo("once");
            assertThat(removed.path("image").asText()).isEqualTo("bb:1");
            assertThat(removed.path("autoRemoved").asBoolean()).isTrue();
        }
    }

    @Test
    void aMissingExecutableIs400WithDockersWordingAndLeavesItCreatedWith127() throws Exception {
        String tenant = tenant();
        String id = create(tenant, "nope", "{\"Image\":\"bb:1\",\"Cmd\":" + cmd("nope") + "}");
        as(tenant).post("/containers/nope/start").then().statusCode(400)
                .body("message", containsString("exec: \"nope\": executable file not found in $PATH"));
        inspect(tenant, id).then().body("State.Status", equalTo("created")).body("State.ExitCode", equalTo(127))
                .body("State.Error", containsString("executable file not found"));
        as(tenant).queryParam("all", "1").get("/containers/json").then().body("[0].Status", equalTo("Created"));

        // with --rm the wait for removal gives the CLI its 127 and nothing stays
        String rm = create(tenant, null, "{\"Image\":\"bb:1\",\"Cmd\":" + cmd("nope") + ",\"HostConfig\":{\"AutoRemove\":true}}");
        try (RawWait wait = new RawWait(RestAssured.port, tenant, rm, "removed")) {
            as(tenant).post("/containers/" + rm + "/start").then().statusCode(400);
            assertThat(wait.body()).isEqualTo("{\"Error\":null,\"StatusCode\":127}");
        }
        inspect(tenant, rm).then().statusCode(404);
    }

    @Test
    void onFailureRestartsTwiceThenStays() throws Exception {
        String tenant = tenant();
        String id = create(tenant, "flaky", "{\"Image\":\"bb:1\",\"Cmd\":" + cmd("sh", "-c", "exit 1")
                + ",\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"on-failure\",\"MaximumRetryCount\":2}}}");
        as(tenant).post("/containers/flaky/start").then().statusCode(204);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> inspect(tenant, id).then()
                .body("State.Status", equalTo("exited")).body("RestartCount", equalTo(2))
                .body("State.ExitCode", equalTo(1)));
    }

    @Test
    void removeOfARunningContainerNeedsForce() throws Exception {
        String tenant = tenant();
        String id = create(tenant, "busy", "{\"Image\":\"bb:1\",\"Cmd\":" + cmd("sleep", "300") + "}");
        as(tenant).post("/containers/busy/start").then().statusCode(204);
        as(tenant).delete("/containers/busy").then().statusCode(409).body("message", equalTo("You cannot remove a"
                + " running container " + id + ". Stop the container before attempting removal or force remove"));
        as(tenant).queryParam("force", "1").delete("/containers/busy").then().statusCode(204);
        inspect(tenant, id).then().statusCode(404);
        NodeFixture.assertNodeEmpty();
    }

    @Test
    void execIsCreatedOnTheNodeAndLocatedForTheGateway() throws Exception {
        String tenant = tenant();
        String id = create(tenant, "shell", "{\"Image\":\"bb:1\",\"Cmd\":" + cmd("sleep", "300") + "}");
        as(tenant).body("{\"Cmd\":[\"echo\",\"hi\"],\"AttachStdout\":true}").post("/containers/shell/exec").then()
                .statusCode(409).body("message", equalTo("Container " + id + " is not running"));
        as(tenant).post("/containers/shell/start").then().statusCode(204);
        String exec = as(tenant).body("{\"Cmd\":[\"echo\",\"hi\"],\"AttachStdout\":true,\"containerId\":null}")
                .post("/containers/shell/exec").then().statusCode(201).extract().path("Id");
        as(tenant).get("/_berth/locate/exec/" + exec).then().statusCode(200).body("Id", equalTo(id))
                .body("Node", equalTo(NodeFixture.nodeId())).body("Address", matchesPattern("127\\.0\\.0\\.1:\\d+"))
                .body("State", equalTo("running"));
        as(tenant).get("/_berth/locate/containers/" + id.substring(0, 12)).then().statusCode(200)
                .body("Id", equalTo(id)).body("Node", equalTo(NodeFixture.nodeId()));
        as(tenant).get("/_berth/locate/containers/nothere").then().statusCode(404)
                .body("message", equalTo("No such container: nothere"));
        as(tenant).get("/_berth/locate/exec/nothere").then().statusCode(404)
                .body("message", equalTo("No such exec instance: nothere"));
        // another tenant cannot locate it
        as("other").get("/_berth/locate/exec/" + exec).then().statusCode(404);
    }

    @Test
    void aRunningContainerShowsItsNetworkPortsAndPauseInListAndInspect() throws Exception {
        String tenant = tenant();
        String id = create(tenant, "web", "{\"Image\":\"bb:1\",\"Cmd\":" + cmd("sleep", "300")
                + ",\"ExposedPorts\":{\"80/tcp\":{}},\"HostConfig\":{\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"\","
                + "\"HostPort\":\"\"}]}}}");
        as(tenant).post("/containers/web/start").then().statusCode(204);
        Response inspected = inspect(tenant, id);
        inspected.then().statusCode(200).body("State.Status", equalTo("running"))
                .body("NetworkSettings.IPAddress", matchesPattern("10\\.201\\.20\\.\\d+"))
                .body("NetworkSettings.IPPrefixLen", equalTo(24))
                .body("NetworkSettings.Gateway", matchesPattern("10\\.201\\.20\\.\\d+"))
                .body("NetworkSettings.MacAddress", matchesPattern("([0-9a-f]{2}:){5}[0-9a-f]{2}"))
                .body("NetworkSettings.Networks.bridge.IPAddress", matchesPattern("10\\.201\\.20\\.\\d+"))
                .body("NetworkSettings.Ports.'80/tcp'[0].HostIp", equalTo("0.0.0.0"))
                .body("NetworkSettings.Ports.'80/tcp'[0].HostPort", matchesPattern("[1-9]\\d*"));
        int hostPort = Integer.parseInt(inspected.path("NetworkSettings.Ports.'80/tcp'[0].HostPort"));
        as(tenant).get("/containers/json").then().body("[0].Ports[0].PrivatePort", equalTo(80))
                .body("[0].Ports[0].PublicPort", equalTo(hostPort)).body("[0].Ports[0].Type", equalTo("tcp"))
                .body("[0].Ports[0].IP", equalTo("0.0.0.0"));

        as(tenant).post("/containers/web/pause").then().statusCode(204);
        as(tenant).post("/containers/web/pause").then().statusCode(409)
                .body("message", equalTo("Container " + id + " is already paused"));
        as(tenant).get("/containers/json").then().body("[0].State", equalTo("paused"))
                .body("[0].Status", matchesPattern("Up (Less than a second|\\d+ seconds?) \\(Paused\\)"));
        inspect(tenant, id).then().body("State.Paused", equalTo(true)).body("State.Running", equalTo(true));
        as(tenant).post("/containers/web/unpause").then().statusCode(204);
        as(tenant).post("/containers/web/unpause").then().statusCode(409)
                .body("message", equalTo("Container " + id + " is not paused"));

        as(tenant).queryParam("t", "1").post("/containers/web/restart").then().statusCode(204);
        inspect(tenant, id).then().body("State.Status", equalTo("running"));
        as(tenant).post("/containers/web/kill").then().statusCode(204);
        inspect(tenant, id).then().body("State.Status", equalTo("exited")).body("State.ExitCode", equalTo(137))
                .body("NetworkSettings.IPAddress", equalTo("")).body("NetworkSettings.Ports", equalTo(Map.of()));
    }

    @Test
    void aCreateTheNodeRefusesLeavesNothingBehind() throws Exception {
        String tenant = tenant();
        String id = "sha256:" + (UUID.randomUUID().toString() + UUID.randomUUID()).replace("-", "");
        String missing = "sha256:" + "0".repeat(64);
        images.send(tenant, "dev.berth.image.imported.v1", "{\"imageId\":\"" + id + "\",\"configDigest\":\"" + id
                + "\",\"layers\":[{\"digest\":\"" + missing + "\",\"diffId\":\"" + missing + "\",\"size\":10,"
                + "\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"unpackedSize\":10}],"
                + "\"config\":" + CONFIG + ",\"architecture\":\"amd64\",\"os\":\"linux\","
                + "\"created\":\"2026-11-30T00:11:26.352460757Z\",\"size\":1,\"repoTags\":[\"gone:1\"]}");
        await().atMost(Duration.ofSeconds(60)).until(() -> count("select count(*) from image_ref where tenant = '"
                + tenant + "' and reference = 'gone:1'") == 1);
        as(tenant).queryParam("name", "ghost").body("{\"Image\":\"gone:1\"}").post("/containers/create").then()
                .statusCode(404).body("message", containsString(missing));
        as(tenant).queryParam("all", "1").get("/containers/json").then().body("Id", equalTo(List.of()));
        // the name is free again
        create(tenant, "ghost", "{\"Image\":\"bb:1\"}");
    }

    @Test
    void replayRebuildsTheLifecycleStateOfTheReadModel() throws Exception {
        String tenant = tenant();
        create(tenant, "done", "{\"Image\":\"bb:1\",\"Cmd\":" + cmd("sh", "-c", "exit 2") + "}");
        try (RawWait wait = new RawWait(RestAssured.port, tenant, "done", "next-exit")) {
            as(tenant).post("/containers/done/start").then().statusCode(204);
            assertThat(wait.body()).contains("\"StatusCode\":2");
        }
        create(tenant, "up", "{\"Image\":\"bb:1\",\"Cmd\":" + cmd("sleep", "300") + "}");
        as(tenant).post("/containers/up/start").then().statusCode(204);
        create(tenant, "failed", "{\"Image\":\"bb:1\",\"Cmd\":" + cmd("nope") + "}");
        as(tenant).post("/containers/failed/start").then().statusCode(400);
        String rows = dump();
        assertThat(rows).contains("running").contains("exited").contains("created");

        given().post("/_berth/replay").then().statusCode(200);

        assertThat(dump()).isEqualTo(rows);
    }

    private static String dump() throws Exception {
        StringBuilder out = new StringBuilder();
        try (Connection c = database(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("select * from container_view order by id")) {
            int columns = r.getMetaData().getColumnCount();
            while (r.next()) {
                for (int i = 1; i <= columns; i++) {
                    out.append(r.getString(i)).append('|');
                }
                out.append('\n');
            }
        }
        return out.toString();
    }

    private static long count(String sql) throws Exception {
        try (Connection c = database(); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }

    private static Connection database() throws Exception {
        return PostgresServer.shared().connect(ConfigProvider.getConfig().getValue("berth.test.database", String.class));
    }
}
