package dev.berth.container.api;

import dev.berth.container.node.NodeFixture;
import dev.berth.container.node.NodeTestResource;
import dev.berth.events.EventEnvelope;
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

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.matchesPattern;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.nullValue;

/**
 * The container endpoints as Docker clients see them, over a real PostgreSQL and a real Kafka broker; images arrive
 * as image-service's events on berth.images.events.
 */
@QuarkusTest
@QuarkusTestResource(BerthTestResource.class)
@QuarkusTestResource(NodeTestResource.class)
class ContainersApiTest {

    private static final String IMPORTED = "dev.berth.image.imported.v1";
    // The create body docker CLI 28.2.2 sends, with a field Docker dropped long ago. The bind source exists: the
    // node refuses a missing one (docs/containers.md).
    private static final String CLI_BODY = """
            {"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":true,"AttachStderr":true,
             "ExposedPorts":{"80/tcp":{}},"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["FOO=bar"],
             "Cmd":["echo","hello world"],"Image":"%s","Volumes":{},"WorkingDir":"","Entrypoint":null,"OnBuild":null,
             "Labels":{"tr":"1"},"PortSpecs":null,
             "HostConfig":{"Binds":["/srv:/data:ro"],"ContainerIDFile":"","LogConfig":{"Type":"","Config":{}},
             "NetworkMode":"default","PortBindings":{"80/tcp":[{"HostIp":"","HostPort":"8089"}]},
             "RestartPolicy":{"Name":"no","MaximumRetryCount":0},"AutoRemove":false,"VolumeDriver":"","VolumesFrom":null,
             "ConsoleSize":[0,0],"CapAdd":["NET_ADMIN"],"CapDrop":null,"CgroupnsMode":"","Dns":[],"DnsOptions":[],
             "DnsSearch":[],"ExtraHosts":null,"Privileged":false,"PublishAllPorts":false,"ReadonlyRootfs":false,
             "ShmSize":0,"Memory":67108864,"NanoCpus":500000000,"PidsLimit":0,
             "Ulimits":[{"Name":"nofile","Soft":1024,"Hard":2048}],"MemorySwappiness":-1},
             "NetworkingConfig":{"EndpointsConfig":{"default":{"IPAMConfig":null,"Links":null,"Aliases":null}}}}
            """;

    private static ImagePublisher images;

    @BeforeAll
    static void publisher() {
        images = new ImagePublisher(ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class));
    }

    @AfterAll
    static void closePublisher() {
        images.close();
    }

    private static final List<String> TENANTS = new java.util.concurrent.CopyOnWriteArrayList<>();

    private static String tenant() {
        String t = "t" + UUID.randomUUID().toString().substring(0, 8);
        TENANTS.add(t);
        return t;
    }

    /** Every container a test made is removed through the API, and nothing of it stays on the node. */
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

    private static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static RequestSpecification as(String tenant) {
        return given().contentType(ContentType.JSON).header("X-Berth-Tenant", tenant);
    }

    private static String imageId() {
        return "sha256:" + (UUID.randomUUID().toString() + UUID.randomUUID()).replace("-", "");
    }

    private static final String CONFIG = "{\"User\":null,\"ExposedPorts\":{\"443/tcp\":{}},"
            + "\"Env\":[\"PATH=/usr/bin:/bin\",\"FOO=image\"],\"Cmd\":[\"sh\"],\"Volumes\":null,\"WorkingDir\":\"/srv\","
            + "\"Entrypoint\":null,\"Labels\":{\"maintainer\":\"berth\"},\"StopSignal\":\"SIGQUIT\"}";

    /** Imports an image for a tenant through Kafka and waits until container-service's projection has it. */
    private static String image(String tenant, String reference, String config) throws Exception {
        String id = imageId();
        images.send(tenant, IMPORTED, "{\"imageId\":\"" + id + "\",\"configDigest\":\"" + id + "\",\"layers\":"
                + NodeFixture.layersJson() + ","
                + "\"config\":" + config + ",\"architecture\":\"amd64\",\"os\":\"linux\","
                + "\"created\":\"2026-11-30T00:11:26.352460757Z\",\"size\":2048,\"repoTags\":[\"" + reference + "\"]}");
        await().atMost(Duration.ofSeconds(60)).until(() -> count("select count(*) from image_ref where tenant = '"
                + tenant + "' and image_id = '" + id + "'") == 1);
        return id;
    }

    private static Response create(String tenant, String name, String body) {
        RequestSpecification spec = as(tenant);
        if (name != null) {
            spec = spec.queryParam("name", name);
        }
        return spec.body(body).post("/containers/create");
    }

    private static String created(String tenant, String name, String body) {
        return create(tenant, name, body).then().statusCode(201).extract().path("Id");
    }

    @Test
    void theCliCreatesAContainerAndSeesItInInspectAndTheList() throws Exception {
        String tenant = tenant();
        String imageId = image(tenant, "trimg:1", CONFIG);
        String name = unique("web");
        Response response = create(tenant, name, CLI_BODY.formatted("trimg:1"));
        response.then().statusCode(201).body("Id", matchesPattern("[0-9a-f]{64}")).body("Warnings", hasSize(0));
        String id = response.path("Id");

        for (String ref : List.of(name, id, id.substring(0, 12))) {
            as(tenant).get("/containers/" + ref + "/json").then().statusCode(200)
                    .body("Id", equalTo(id)).body("Name", equalTo("/" + name))
                    .body("Created", matchesPattern("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z"))
                    .body("Path", equalTo("echo")).body("Args", equalTo(List.of("hello world")))
                    .body("State.Status", equalTo("created")).body("State.Running", equalTo(false))
                    .body("State.ExitCode", equalTo(0)).body("State.Pid", equalTo(0))
                    .body("State.FinishedAt", equalTo("0001-01-01T00:00:00Z"))
                    .body("Image", equalTo(imageId)).body("RestartCount", equalTo(0))
                    .body("Config.Image", equalTo("trimg:1"))
                    .body("Config.Hostname", equalTo(id.substring(0, 12)))
                    .body("Config.Env", equalTo(List.of("PATH=/usr/bin:/bin", "FOO=bar")))
                    .body("Config.Cmd", equalTo(List.of("echo", "hello world")))
                    .body("Config.Entrypoint", nullValue())
                    .body("Config.WorkingDir", equalTo("/srv")).body("Config.StopSignal", equalTo("SIGQUIT"))
                    .body("Config.Labels", equalTo(Map.of("tr", "1", "maintainer", "berth")))
                    .body("Config.ExposedPorts", equalTo(Map.of("443/tcp", Map.of(), "80/tcp", Map.of())))
                    .body("HostConfig.NetworkMode", equalTo("default"))
                    .body("HostConfig.LogConfig.Type", equalTo("json-file"))
                    .body("HostConfig.PortBindings.'80/tcp'[0].HostPort", equalTo("8089"))
                    .body("HostConfig.RestartPolicy.Name", equalTo("no"))
                    .body("HostConfig.Binds", equalTo(List.of("/srv:/data:ro")))
                    .body("HostConfig.CapAdd", equalTo(List.of("NET_ADMIN")))
                    .body("HostConfig.Memory", equalTo(67108864)).body("HostConfig.NanoCpus", equalTo(500000000))
                    .body("HostConfig.Ulimits[0].Soft", equalTo(1024))
                    .body("Mounts[0].Type", equalTo("bind")).body("Mounts[0].RW", equalTo(false))
                    .body("NetworkSettings.Ports", equalTo(Map.of()))
                    .body("NetworkSettings.Networks", hasKey("bridge"));
        }

        as(tenant).queryParam("all", "1").get("/containers/json").then().statusCode(200).body("$", hasSize(1))
                .body("[0].Id", equalTo(id)).body("[0].Names", equalTo(List.of("/" + name)))
                .body("[0].Image", equalTo("trimg:1")).body("[0].ImageID", equalTo(imageId))
                .body("[0].Command", equalTo("echo 'hello world'"))
                .body("[0].State", equalTo("created")).body("[0].Status", equalTo("Created"))
                .body("[0].Labels.tr", equalTo("1"))
                .body("[0].HostConfig.NetworkMode", equalTo("default"))
                .body("[0].NetworkSettings.Networks", hasKey("bridge"))
                .body("[0].Mounts[0].Destination", equalTo("/data"))
                .body("[0].Ports.PrivatePort", hasItems(80, 443));
        // docker ps without -a shows running containers only
        as(tenant).get("/containers/json").then().statusCode(200).body("$", hasSize(0));
    }

    @Test
    void renameAndRemoveFollowTheNameAndAnswerDockersCodes() throws Exception {
        String tenant = tenant();
        image(tenant, "trimg:1", CONFIG);
        String id = created(tenant, "old", "{\"Image\":\"trimg:1\"}");
        as(tenant).queryParam("name", "new").post("/containers/old/rename").then().statusCode(204);
        as(tenant).get("/containers/old/json").then().statusCode(404).body("message", equalTo("No such container: old"));
        as(tenant).get("/containers/new/json").then().statusCode(200).body("Id", equalTo(id));
        as(tenant).queryParam("name", "new").post("/containers/new/rename").then().statusCode(400);
        as(tenant).queryParam("name", "bad name").post("/containers/new/rename").then().statusCode(400);
        as(tenant).queryParam("name", "x").post("/containers/nothere/rename").then().statusCode(404);
        // the freed name can be taken again
        String other = created(tenant, "old", "{\"Image\":\"trimg:1\"}");
        as(tenant).queryParam("name", "old").post("/containers/new/rename").then().statusCode(409);

        as(tenant).queryParam("v", "True").queryParam("force", "False").delete("/containers/new").then().statusCode(204);
        as(tenant).get("/containers/" + id + "/json").then().statusCode(404);
        as(tenant).delete("/containers/new").then().statusCode(404).body("message", equalTo("No such container: new"));
        as(tenant).queryParam("force", "maybe").delete("/containers/old").then().statusCode(400);
        as(tenant).queryParam("force", "1").delete("/containers/" + other.substring(0, 10)).then().statusCode(204);
        as(tenant).queryParam("all", "1").get("/containers/json").then().body("$", hasSize(0));
    }

    @Test
    void aNameInUseIs409WithDockersMessageAndNoNameGetsADockerStyleOne() throws Exception {
        String tenant = tenant();
        image(tenant, "trimg:1", CONFIG);
        String id = created(tenant, "web", "{\"Image\":\"trimg:1\"}");
        create(tenant, "web", "{\"Image\":\"trimg:1\"}").then().statusCode(409).body("message", equalTo(
                "Conflict. The container name \"/web\" is already in use by container \"" + id
                        + "\". You have to remove (or rename) that container to be able to reuse that name."));
        create(tenant, "/web", "{\"Image\":\"trimg:1\"}").then().statusCode(409);
        String generated = created(tenant, null, "{\"Image\":\"trimg:1\"}");
        as(tenant).get("/containers/" + generated + "/json").then().body("Name", matchesPattern("/[a-z]+_[a-z]+\\d?"));
        as(tenant).queryParam("all", "1").get("/containers/json").then().body("$", hasSize(2));
    }

    @Test
    void badRequestsGetDockersCodesAndLeaveNothingBehind() throws Exception {
        String tenant = tenant();
        image(tenant, "trimg:1", CONFIG);
        image(tenant, "nocmd:1", "{\"Cmd\":null,\"Entrypoint\":null}");
        create(tenant, null, "{\"Image\":\"nothere:1\"}").then().statusCode(404)
                .body("message", equalTo("No such image: nothere:1"));
        create(tenant, null, "{\"Image\":\"Upper\"}").then().statusCode(400)
                .body("message", equalTo("invalid reference format: repository name (Upper) must be lowercase"));
        create(tenant, "bad/name", "{\"Image\":\"trimg:1\"}").then().statusCode(400)
                .body("message", equalTo("Invalid container name (bad/name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"));
        create(tenant, null, "{\"Image\":\"nocmd:1\"}").then().statusCode(400)
                .body("message", equalTo("No command specified"));
        create(tenant, null, "{\"Image\":\"trimg:1\",\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"sometimes\"}}}")
                .then().statusCode(400).body("message", equalTo("invalid restart policy: unknown policy 'sometimes'; use"
                        + " one of 'no', 'always', 'on-failure', or 'unless-stopped'"));
        create(tenant, null, "{\"Image\":\"trimg:1\",\"HostConfig\":{\"AutoRemove\":true,\"RestartPolicy\":"
                + "{\"Name\":\"always\"}}}").then().statusCode(400)
                .body("message", equalTo("can't create 'AutoRemove' container with restart policy"));
        create(tenant, null, "{\"Image\":\"trimg:1\",\"HostConfig\":{\"Memory\":1024}}").then().statusCode(400)
                .body("message", equalTo("Minimum memory limit allowed is 6MB"));
        create(tenant, null, "{\"Image\":\"trimg:1\",\"ExposedPorts\":{\"http/tcp\":{}}}").then().statusCode(400)
                .body("message", equalTo("invalid port specification: \"http/tcp\""));
        create(tenant, null, "{\"Image\":\"trimg:1\"").then().statusCode(400);
        create(tenant, null, "{\"Image\":\"trimg:1\",\"Cmd\":{\"a\":1}}").then().statusCode(400);
        as(tenant).queryParam("all", "1").get("/containers/json").then().body("$", hasSize(0));
        assertThat(count("select count(*) from events where tenant = '" + tenant + "'")).isZero();
    }

    @Test
    void explicitNullsLooseBooleansAndUnknownFieldsAreAccepted() throws Exception {
        String tenant = tenant();
        String imageId = image(tenant, "docker.io/library/trimg:2", CONFIG);
        // docker-java writes every field, null when unset; booleans arrive as 1 or "True"
        String id = created(tenant, null, "{\"Hostname\":null,\"User\":null,\"Env\":null,\"Cmd\":null,"
                + "\"Image\":\"trimg:2\",\"Entrypoint\":null,\"Labels\":null,\"Tty\":1,\"openstdin\":\"True\","
                + "\"Volumes\":null,\"ExposedPorts\":null,\"HostConfig\":{\"Binds\":null,\"PortBindings\":null,"
                + "\"RestartPolicy\":null,\"AutoRemove\":null,\"Privileged\":true,\"LogConfig\":null,"
                + "\"NetworkMode\":null,\"SomethingNew\":{\"x\":[1]}},\"NetworkingConfig\":null}");
        as(tenant).get("/containers/" + id + "/json").then().statusCode(200)
                .body("Config.Tty", equalTo(true)).body("Config.OpenStdin", equalTo(true))
                .body("Config.Cmd", equalTo(List.of("sh"))).body("Path", equalTo("sh"))
                .body("HostConfig.Privileged", equalTo(true)).body("HostConfig.RestartPolicy.Name", equalTo("no"))
                .body("HostConfig.NetworkMode", equalTo("default")).body("Image", equalTo(imageId));
        // the image is also found by its full id, by a short id and in its docker.io form
        created(tenant, null, "{\"Image\":\"" + imageId + "\"}");
        created(tenant, null, "{\"Image\":\"" + imageId.substring(7, 19) + "\"}");
        created(tenant, null, "{\"image\":\"docker.io/library/trimg:2\"}");
    }

    @Test
    void listFiltersLimitAndAncestorWork() throws Exception {
        String tenant = tenant();
        String imageA = image(tenant, "trimg:a", CONFIG);
        image(tenant, "trimg:b", CONFIG);
        String a = created(tenant, "alpha-web", "{\"Image\":\"trimg:a\",\"Labels\":{\"tier\":\"front\"}}");
        String b = created(tenant, "beta-db", "{\"Image\":\"trimg:b\",\"Labels\":{\"tier\":\"back\"}}");
        RequestSpecification all = as(tenant).queryParam("all", "1");
        assertThat(ids(as(tenant).queryParam("all", "1").queryParam("filters", "{\"name\":[\"web\"]}"))).containsExactly(a);
        assertThat(ids(as(tenant).queryParam("all", "1").queryParam("filters", "{\"name\":{\"^/beta\":true}}")))
                .containsExactly(b);
        assertThat(ids(as(tenant).queryParam("all", "1").queryParam("filters", "{\"id\":[\"" + b.substring(0, 8) + "\"]}")))
                .containsExactly(b);
        assertThat(ids(as(tenant).queryParam("all", "1").queryParam("filters", "{\"label\":{\"tier=front\":true}}")))
                .containsExactly(a);
        assertThat(ids(as(tenant).queryParam("filters", "{\"status\":[\"created\"]}"))).containsExactlyInAnyOrder(a, b);
        assertThat(ids(as(tenant).queryParam("all", "1").queryParam("filters", "{\"ancestor\":[\"trimg:a\"]}")))
                .containsExactly(a);
        assertThat(ids(as(tenant).queryParam("all", "1").queryParam("filters", "{\"ancestor\":[\"" + imageA + "\"]}")))
                .containsExactly(a);
        assertThat(ids(as(tenant).queryParam("limit", "1"))).containsExactly(b);
        assertThat(ids(all)).containsExactly(b, a);
    }

    @Test
    void pruneRemovesStoppedContainersMatchingItsFilters() throws Exception {
        String tenant = tenant();
        image(tenant, "trimg:1", CONFIG);
        String keep = created(tenant, "keep", "{\"Image\":\"trimg:1\",\"Labels\":{\"keep\":\"yes\"}}");
        String gone = created(tenant, "gone", "{\"Image\":\"trimg:1\"}");
        as(tenant).queryParam("filters", "{\"label!\":{\"keep\":true}}").post("/containers/prune").then()
                .statusCode(200).body("ContainersDeleted", equalTo(List.of(gone))).body("SpaceReclaimed", equalTo(0));
        as(tenant).queryParam("filters", "{\"label\":{\"tr=none\":true}}").post("/containers/prune").then()
                .statusCode(200).body("ContainersDeleted", nullValue());
        assertThat(ids(as(tenant).queryParam("all", "1"))).containsExactly(keep);
        as(tenant).queryParam("filters", "{\"until\":[\"1h\"]}").post("/containers/prune").then()
                .statusCode(200).body("ContainersDeleted", nullValue());
        as(tenant).queryParam("filters", "{\"colour\":[\"red\"]}").post("/containers/prune").then().statusCode(400);
        as(tenant).post("/containers/prune").then().statusCode(200).body("ContainersDeleted", equalTo(List.of(keep)));
    }

    @Test
    void tenantsSeeNeitherEachOthersImagesNorContainers() throws Exception {
        String one = tenant();
        String two = tenant();
        String imageId = image(one, "trimg:1", CONFIG);
        String id = created(one, "web", "{\"Image\":\"trimg:1\"}");
        create(two, "web", "{\"Image\":\"trimg:1\"}").then().statusCode(404).body("message", equalTo("No such image: trimg:1"));
        create(two, "web", "{\"Image\":\"" + imageId + "\"}").then().statusCode(404);
        as(two).queryParam("all", "1").get("/containers/json").then().body("$", hasSize(0));
        as(two).get("/containers/" + id + "/json").then().statusCode(404);
        as(two).get("/containers/web/json").then().statusCode(404);
        as(two).delete("/containers/" + id).then().statusCode(404);
        as(two).queryParam("name", "x").post("/containers/web/rename").then().statusCode(404);
        as(two).post("/containers/prune").then().statusCode(200).body("ContainersDeleted", nullValue());
        image(two, "trimg:1", CONFIG);
        created(two, "web", "{\"Image\":\"trimg:1\"}");
        as(one).get("/containers/web/json").then().statusCode(200).body("Id", equalTo(id));
    }

    @Test
    void imageEventsAreAppliedOnceAndUntagOrDeleteHideTheImage() throws Exception {
        String tenant = tenant();
        String id = image(tenant, "trimg:1", CONFIG);
        EventEnvelope tagged = images.send(tenant, "dev.berth.image.tagged.v1",
                "{\"imageId\":\"" + id + "\",\"reference\":\"other\"}");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                create(tenant, null, "{\"Image\":\"other:latest\"}").then().statusCode(201));
        images.send(tenant, "dev.berth.image.untagged.v1", "{\"imageId\":\"" + id + "\",\"reference\":\"other:latest\"}");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                create(tenant, null, "{\"Image\":\"other\"}").then().statusCode(404));
        // a redelivered tag event is a duplicate: it does not bring the tag back
        images.send(tagged);
        images.send(tenant, "dev.berth.image.deleted.v1", "{\"imageId\":\"" + id + "\"}");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                create(tenant, null, "{\"Image\":\"" + id + "\"}").then().statusCode(404));
        create(tenant, null, "{\"Image\":\"other\"}").then().statusCode(404);
        assertThat(count("select count(*) from image_ref where tenant = '" + tenant + "'")).isZero();
    }

    @Test
    void containerEventsReachKafkaAsCloudEvents() throws Exception {
        String tenant = tenant();
        image(tenant, "trimg:1", CONFIG);
        String id = created(tenant, "evt", "{\"Image\":\"trimg:1\"}");
        as(tenant).queryParam("name", "evt2").post("/containers/evt/rename").then().statusCode(204);
        as(tenant).delete("/containers/evt2").then().statusCode(204);
        String bootstrap = ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
        try (TopicReader reader = new TopicReader(bootstrap, "berth.containers.events")) {
            await().atMost(Duration.ofSeconds(60)).until(() -> reader.byKey(tenant + "/containers").size() == 3);
            List<ConsumerRecord<String, String>> records = reader.byKey(tenant + "/containers");
            assertThat(records).extracting(r -> TopicReader.headers(r).get("ce_type")).containsExactly(
                    "dev.berth.container.created.v1", "dev.berth.container.renamed.v1", "dev.berth.container.removed.v1");
            Map<String, String> headers = TopicReader.headers(records.get(0));
            assertThat(headers).containsEntry("ce_source", "/container-service").containsEntry("ce_tenant", tenant)
                    .containsEntry("ce_subject", tenant + "/containers");
            var json = new com.fasterxml.jackson.databind.ObjectMapper();
            var createdEvent = json.readTree(records.get(0).value());
            assertThat(createdEvent.path("containerId").asText()).isEqualTo(id);
            assertThat(createdEvent.path("name").asText()).isEqualTo("evt");
            assertThat(createdEvent.path("spec").path("imageId").asText()).startsWith("sha256:");
            assertThat(createdEvent.path("spec").path("cmd").toString()).isEqualTo("[\"sh\"]");
            var removed = json.readTree(records.get(2).value());
            assertThat(removed.path("containerId").asText()).isEqualTo(id);
            assertThat(removed.path("name").asText()).isEqualTo("evt2");
        }
    }

    @Test
    void replayRebuildsTheSameReadModel() throws Exception {
        String tenant = tenant();
        image(tenant, "trimg:1", CONFIG);
        String a = created(tenant, "one", CLI_BODY.formatted("trimg:1"));
        created(tenant, "two", "{\"Image\":\"trimg:1\"}");
        as(tenant).queryParam("name", "three").post("/containers/two/rename").then().statusCode(204);
        String gone = created(tenant, null, "{\"Image\":\"trimg:1\"}");
        as(tenant).delete("/containers/" + gone).then().statusCode(204);
        String list = as(tenant).queryParam("all", "1").get("/containers/json").then().extract().asString();
        String inspect = as(tenant).get("/containers/" + a + "/json").then().extract().asString();
        String rows = dump();

        given().post("/_berth/replay").then().statusCode(200).body("events", not(equalTo(0)));

        assertThat(dump()).isEqualTo(rows);
        assertThat(as(tenant).queryParam("all", "1").get("/containers/json").then().extract().asString()).isEqualTo(list);
        assertThat(as(tenant).get("/containers/" + a + "/json").then().extract().asString()).isEqualTo(inspect);
        as(tenant).get("/containers/three/json").then().statusCode(200);
    }

    @Test
    void badQueriesAre400() {
        given().queryParam("filters", "{\"colour\":[\"red\"]}").get("/containers/json").then().statusCode(400)
                .body("message", equalTo("invalid filter 'colour'"));
        given().queryParam("filters", "{\"status\":[\"sleepy\"]}").get("/containers/json").then().statusCode(400)
                .body("message", equalTo("invalid filter 'status=sleepy'"));
        given().queryParam("all", "maybe").get("/containers/json").then().statusCode(400);
        given().queryParam("limit", "many").get("/containers/json").then().statusCode(400);
    }

    @Test
    void healthIsUpWithDatabaseAndKafka() {
        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP")));
    }

    private static List<String> ids(RequestSpecification spec) {
        return spec.get("/containers/json").then().statusCode(200).extract().jsonPath().getList("Id");
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
