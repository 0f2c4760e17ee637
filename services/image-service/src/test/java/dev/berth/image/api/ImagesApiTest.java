package dev.berth.image.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.testing.BerthTestResource;
import dev.berth.testing.PostgresServer;
import dev.berth.testing.TopicReader;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.nullValue;

/** The image endpoints as Docker clients and node agents see them, over a real PostgreSQL and Kafka broker. */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class ImagesApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path BLOBS = Path.of("target/image-store/blobs/sha256");

    private static String tenant() {
        return "t" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static RequestSpecification as(String tenant) {
        return given().header("X-Berth-Tenant", tenant);
    }

    private static Response importTar(String tenant, byte[] tar, String repo, String... changes) {
        RequestSpecification spec = as(tenant).contentType("text/plain").body(tar).queryParam("fromSrc", "-");
        if (repo != null) {
            spec = spec.queryParam("repo", repo);
        }
        if (changes.length > 0) {
            spec = spec.queryParam("changes", (Object[]) changes);
        }
        return spec.post("/images/create");
    }

    private static String importId(String tenant, byte[] tar, String repo, String... changes) {
        String body = importTar(tenant, tar, repo, changes).then().statusCode(200).extract().asString();
        assertThat(body).matches("\\{\"status\":\"sha256:[a-f0-9]{64}\"}\r\n");
        return body.substring(11, 82);
    }

    @Test
    void importAppliesRepoTagChangesAndMessageAndInspectShowsThem() throws Exception {
        String t = tenant();
        byte[] rootfs = Tars.rootfs("hello");
        String body = as(t).contentType("text/plain").body(rootfs)
                .queryParam("fromSrc", "-").queryParam("repo", "trtiny:1").queryParam("message", "tiny import")
                .queryParam("changes", "CMD [\"/bin/sh\"]", "ENV A=1", "EXPOSE 80", "LABEL tr=1",
                        "WORKDIR /w", "USER nobody", "STOPSIGNAL SIGINT", "ENTRYPOINT [\"/bin/busybox\"]")
                .post("/images/create").then().statusCode(200).contentType("application/json")
                .extract().asString();
        assertThat(body).matches("\\{\"status\":\"sha256:[a-f0-9]{64}\"}\r\n");
        String id = body.substring(11, 82);
        // Docker's size: the files, and the symbolic link /bin/sh -> busybox by its target's length
        long files = Files.size(Path.of("/bin/busybox")) + "hello".length() + "busybox".length();

        as(t).get("/images/trtiny:1/json").then().statusCode(200)
                .body("Id", equalTo(id))
                .body("RepoTags", equalTo(List.of("trtiny:1")))
                .body("RepoDigests", equalTo(List.of()))
                .body("Parent", equalTo(""))
                .body("Comment", equalTo("tiny import"))
                .body("Config.Cmd", equalTo(List.of("/bin/sh")))
                .body("Config.Entrypoint", equalTo(List.of("/bin/busybox")))
                .body("Config.Env", equalTo(List.of("A=1")))
                .body("Config.ExposedPorts.'80/tcp'", equalTo(Map.of()))
                .body("Config.Labels.tr", equalTo("1"))
                .body("Config.WorkingDir", equalTo("/w"))
                .body("Config.User", equalTo("nobody"))
                .body("Config.StopSignal", equalTo("SIGINT"))
                .body("Architecture", equalTo(System.getProperty("os.arch").equals("aarch64") ? "arm64" : "amd64"))
                .body("Os", equalTo("linux"))
                .body("Size", equalTo((int) files))
                .body("GraphDriver.Name", equalTo("overlay2"))
                .body("RootFS.Type", equalTo("layers"))
                .body("RootFS.Layers", equalTo(List.of(Tars.sha256(rootfs))));
        String created = as(t).get("/images/" + id + "/json").then().statusCode(200).extract().path("Created");
        assertThat(created).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z");

        // every way Docker names an image
        for (String name : List.of("docker.io/library/trtiny:1", id, id.substring(7), id.substring(7, 19),
                id.substring(0, 15))) {
            as(t).get("/images/" + name + "/json").then().statusCode(200).body("Id", equalTo(id));
        }
        as(t).get("/images/trtiny/json").then().statusCode(404).body("message", equalTo("No such image: trtiny"));

        // the image id is the digest of its config, served by the registry API
        byte[] config = as(t).get("/v2/trtiny/blobs/" + id).then().statusCode(200).extract().asByteArray();
        assertThat(Tars.sha256(config)).isEqualTo(id);
        JsonNode parsed = JSON.readTree(config);
        assertThat(parsed.path("rootfs").path("diff_ids").get(0).asText()).isEqualTo(Tars.sha256(rootfs));
        assertThat(parsed.path("config").path("Cmd").get(0).asText()).isEqualTo("/bin/sh");

        as(t).get("/images/json").then().statusCode(200).body("$", hasSize(1))
                .body("[0].Id", equalTo(id)).body("[0].RepoTags", equalTo(List.of("trtiny:1")))
                .body("[0].RepoDigests", nullValue()).body("[0].Labels.tr", equalTo("1"))
                .body("[0].Containers", equalTo(-1)).body("[0].SharedSize", equalTo(-1))
                .body("[0].ParentId", equalTo("")).body("[0].Size", equalTo((int) files))
                .body("[0].VirtualSize", equalTo((int) files));

        as(t).get("/images/trtiny:1/history").then().statusCode(200).body("$", hasSize(1))
                .body("[0].Id", equalTo(id)).body("[0].Comment", equalTo("tiny import"))
                .body("[0].CreatedBy", equalTo("")).body("[0].Size", equalTo((int) files))
                .body("[0].Tags", equalTo(List.of("trtiny:1")));
    }

    @Test
    void listFiltersByReferenceGlobLabelDanglingBeforeAndSince() throws Exception {
        String t = tenant();
        String a = importId(t, Tars.rootfs("a"), "app/web:1", "LABEL tier=web");
        String b = importId(t, Tars.rootfs("b"), "app/db:1");
        String c = importId(t, Tars.rootfs("c"), null);
        assertThat(ids(t, null)).containsExactlyInAnyOrder(a, b, c);
        assertThat(ids(t, "{\"reference\":{\"app/*\":true}}")).containsExactlyInAnyOrder(a, b);
        assertThat(ids(t, "{\"reference\":[\"app/web\"]}")).containsExactly(a);
        assertThat(ids(t, "{\"reference\":{\"app/w*:1\":true}}")).containsExactly(a);
        assertThat(ids(t, "{\"reference\":{\"*\":true}}")).isEmpty();
        assertThat(ids(t, "{\"label\":[\"tier=web\"]}")).containsExactly(a);
        assertThat(ids(t, "{\"dangling\":[\"true\"]}")).containsExactly(c);
        assertThat(ids(t, "{\"dangling\":{\"false\":true}}")).containsExactlyInAnyOrder(a, b);
        as(t).get("/images/json").then().body("find { it.Id == '" + c + "' }.RepoTags", equalTo(List.of()));
        // before/since compare creation times, which may share a millisecond: only assert what must hold
        assertThat(ids(t, "{\"since\":[\"" + c + "\"]}")).doesNotContain(c);
        assertThat(ids(t, "{\"before\":[\"" + a + "\"]}")).doesNotContain(a, c);
        as(t).queryParam("filters", "{\"since\":[\"nope\"]}").get("/images/json").then().statusCode(404)
                .body("message", equalTo("No such image: nope"));
    }

    @Test
    void gzipImportStoresTheSameUncompressedLayer() throws Exception {
        String t = tenant();
        byte[] rootfs = Tars.rootfs("gz");
        String id = importId(t, Tars.gzip(rootfs), "gz:1");
        as(t).get("/images/" + id + "/json").then().body("RootFS.Layers[0]", equalTo(Tars.sha256(rootfs)));
        byte[] layer = as(t).get("/v2/gz/blobs/" + Tars.sha256(rootfs)).then().statusCode(200).extract().asByteArray();
        assertThat(layer).isEqualTo(rootfs);
    }

    @Test
    void tagNormalisesAndRmiUntagsDeletesOrRefuses() throws Exception {
        String t = tenant();
        byte[] rootfs = Tars.rootfs("rmi-" + t);
        String id = importId(t, rootfs, "trtiny:1");
        as(t).queryParam("repo", "docker.io/library/trtiny").queryParam("tag", "2").post("/images/trtiny:1/tag")
                .then().statusCode(201).body(equalTo(""));
        as(t).queryParam("repo", "127.0.0.1:5000/bb").queryParam("tag", "1").post("/images/" + id + "/tag")
                .then().statusCode(201);
        as(t).get("/images/trtiny:2/json").then().statusCode(200).body("Id", equalTo(id))
                .body("RepoTags", equalTo(List.of("127.0.0.1:5000/bb:1", "trtiny:1", "trtiny:2")))
                .body("Metadata.LastTagTime", org.hamcrest.Matchers.not(equalTo("0001-01-01T00:00:00Z")));

        as(t).queryParam("repo", "Trtiny").queryParam("tag", "x").post("/images/trtiny:1/tag").then().statusCode(400)
                .body("message", equalTo("invalid reference format: repository name (Trtiny) must be lowercase"));
        as(t).queryParam("repo", "trtiny").queryParam("tag", "-bad").post("/images/trtiny:1/tag").then()
                .statusCode(400).body("message", equalTo("invalid tag format"));
        as(t).queryParam("repo", "x").queryParam("tag", "1").post("/images/nothere:1/tag").then().statusCode(404)
                .body("message", equalTo("No such image: nothere:1"));

        String shortId = id.substring(7, 19);
        as(t).delete("/images/" + id).then().statusCode(409).body("message", equalTo("conflict: unable to delete "
                + shortId + " (must be forced) - image is referenced in multiple repositories"));
        as(t).delete("/images/trtiny:2").then().statusCode(200).body(equalTo("[{\"Untagged\":\"trtiny:2\"}]"));
        as(t).delete("/images/127.0.0.1:5000/bb:1").then().statusCode(200)
                .body(equalTo("[{\"Untagged\":\"127.0.0.1:5000/bb:1\"}]"));

        // a container using the image (the hook container events will fill) blocks removing its last reference
        String container = "c".repeat(64);
        sql("insert into image_user (tenant, container_id, image_id, running) values ('" + t + "', '" + container
                + "', '" + id + "', false)");
        as(t).delete("/images/trtiny:1").then().statusCode(409).body("message", equalTo(
                "conflict: unable to remove repository reference \"trtiny:1\" (must force) - container cccccccccccc"
                        + " is using its referenced image " + shortId));
        sql("delete from image_user where tenant = '" + t + "'");

        assertThat(Files.exists(BLOBS.resolve(id.substring(7)))).isTrue();
        as(t).delete("/images/trtiny:1").then().statusCode(200).body(equalTo("[{\"Untagged\":\"trtiny:1\"},"
                + "{\"Deleted\":\"" + id + "\"},{\"Deleted\":\"" + Tars.sha256(rootfs) + "\"}]"));
        as(t).get("/images/" + id + "/json").then().statusCode(404).body("message", equalTo("No such image: " + id));
        as(t).get("/images/json").then().body("$", hasSize(0));
        assertThat(Files.exists(BLOBS.resolve(id.substring(7)))).isFalse();
        assertThat(Files.exists(BLOBS.resolve(Tars.sha256(rootfs).substring(7)))).isFalse();
        as(t).delete("/images/trtiny:1").then().statusCode(404).body("message", equalTo("No such image: trtiny:1"));
    }

    @Test
    void pruneRemovesDanglingImagesOnly() throws Exception {
        String t = tenant();
        String kept = importId(t, Tars.rootfs("p1"), "keep:1");
        String dangling = importId(t, Tars.rootfs("p2"), null);
        as(t).post("/images/prune").then().statusCode(200)
                .body("ImagesDeleted[0].Deleted", equalTo(dangling)).body("SpaceReclaimed", org.hamcrest.Matchers.greaterThan(0));
        assertThat(ids(t, null)).containsExactly(kept);
        as(t).post("/images/prune").then().statusCode(200).body("ImagesDeleted", nullValue())
                .body("SpaceReclaimed", equalTo(0));
        as(t).queryParam("filters", "{\"dangling\":[\"false\"]}").post("/images/prune").then().statusCode(200)
                .body("ImagesDeleted[0].Untagged", equalTo("keep:1"));
        assertThat(ids(t, null)).isEmpty();
    }

    @Test
    void loadsALegacyArchiveAndAnOciLayoutArchive() throws Exception {
        String t = tenant();
        byte[] layer = Tars.rootfs("legacy");
        byte[] config = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-01-02T03:04:05.123456789Z\","
                + "\"config\":{\"Cmd\":[\"/bin/sh\"],\"Env\":[\"PATH=/bin\"]},\"rootfs\":{\"type\":\"layers\","
                + "\"diff_ids\":[\"" + Tars.sha256(layer) + "\"]},\"history\":[{\"created\":\"2024-01-02T03:04:05Z\","
                + "\"created_by\":\"import\"},{\"created\":\"2024-01-02T03:04:06Z\",\"created_by\":\"CMD\","
                + "\"empty_layer\":true}]}").getBytes(StandardCharsets.UTF_8);
        String id = Tars.sha256(config);
        Map<String, byte[]> legacy = new LinkedHashMap<>();
        legacy.put("abc/layer.tar", layer);
        legacy.put(id.substring(7) + ".json", config);
        legacy.put("manifest.json", ("[{\"Config\":\"" + id.substring(7) + ".json\",\"RepoTags\":[\"old:1\","
                + "\"docker.io/library/old:2\"],\"Layers\":[\"abc/layer.tar\"]}]").getBytes(StandardCharsets.UTF_8));
        as(t).contentType("application/x-tar").body(Tars.tar(legacy)).queryParam("quiet", "1").post("/images/load")
                .then().statusCode(200).contentType("application/json")
                .body(equalTo("{\"stream\":\"Loaded image: old:1\\n\"}\r\n{\"stream\":\"Loaded image: old:2\\n\"}\r\n"));
        as(t).get("/images/old:2/json").then().statusCode(200).body("Id", equalTo(id))
                .body("Created", equalTo("2024-01-02T03:04:05.123456789Z")).body("Config.Env", equalTo(List.of("PATH=/bin")))
                .body("RepoTags", equalTo(List.of("old:1", "old:2")));
        as(t).get("/images/old:1/history").then().statusCode(200).body("$", hasSize(2))
                .body("[0].Id", equalTo(id)).body("[0].CreatedBy", equalTo("CMD")).body("[0].Size", equalTo(0))
                .body("[1].Id", equalTo("<missing>")).body("[1].CreatedBy", equalTo("import"));

        // OCI layout (what Docker 25+ saves): index.json -> manifest -> config and a gzip layer
        byte[] ociLayer = Tars.rootfs("oci");
        byte[] gz = Tars.gzip(ociLayer);
        byte[] ociConfig = ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"/bin/true\"]},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + Tars.sha256(ociLayer) + "\"]}}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] manifest = ("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                + Tars.sha256(ociConfig) + "\",\"size\":" + ociConfig.length + "},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" + Tars.sha256(gz) + "\",\"size\":"
                + gz.length + "}]}").getBytes(StandardCharsets.UTF_8);
        byte[] index = ("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"digest\":\"" + Tars.sha256(manifest) + "\",\"size\":" + manifest.length + ",\"annotations\":"
                + "{\"io.containerd.image.name\":\"docker.io/library/fresh:oci\",\"org.opencontainers.image.ref.name\":"
                + "\"oci\"}}]}").getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> oci = new LinkedHashMap<>();
        oci.put("blobs/sha256/" + Tars.sha256(gz).substring(7), gz);
        oci.put("blobs/sha256/" + Tars.sha256(ociConfig).substring(7), ociConfig);
        oci.put("blobs/sha256/" + Tars.sha256(manifest).substring(7), manifest);
        oci.put("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
        oci.put("index.json", index);
        as(t).contentType("application/x-tar").body(Tars.tar(oci)).post("/images/load").then().statusCode(200)
                .body(equalTo("{\"stream\":\"Loaded image: fresh:oci\\n\"}\r\n"));
        as(t).get("/images/fresh:oci/json").then().statusCode(200).body("Id", equalTo(Tars.sha256(ociConfig)))
                .body("RootFS.Layers", equalTo(List.of(Tars.sha256(ociLayer))));

        // an untagged image is reported by id; a layer that does not match its config is refused with nothing kept
        Map<String, byte[]> untagged = new LinkedHashMap<>(legacy);
        untagged.put("manifest.json", ("[{\"Config\":\"" + id.substring(7) + ".json\",\"Layers\":[\"abc/layer.tar\"]}]")
                .getBytes(StandardCharsets.UTF_8));
        String other = tenant();
        as(other).body(Tars.tar(untagged)).post("/images/load").then().statusCode(200)
                .body(equalTo("{\"stream\":\"Loaded image ID: " + id + "\\n\"}\r\n"));
        Map<String, byte[]> wrong = new LinkedHashMap<>(legacy);
        wrong.put("abc/layer.tar", Tars.rootfs("not the layer the config names"));
        String third = tenant();
        List<String> before = blobFiles();
        as(third).body(Tars.tar(wrong)).post("/images/load").then().statusCode(400)
                .body("message", org.hamcrest.Matchers.startsWith("invalid archive: layer abc/layer.tar has diff id"));
        as(third).get("/images/json").then().body("$", hasSize(0));
        assertThat(blobFiles()).isEqualTo(before);
    }

    @Test
    void saveThenLoadRoundTripsTheSameImage() throws Exception {
        String t = tenant();
        String id = importId(t, Tars.rootfs("round"), "round:1", "CMD [\"/bin/sh\"]");
        as(t).queryParam("repo", "round").queryParam("tag", "2").post("/images/round:1/tag").then().statusCode(201);
        byte[] archive = as(t).queryParam("names", "round:1", "round:2").get("/images/get").then().statusCode(200)
                .contentType("application/x-tar").extract().asByteArray();
        Map<String, byte[]> files = Tars.read(archive);
        assertThat(files).containsKeys("manifest.json", "repositories", id.substring(7) + ".json");
        JsonNode manifest = JSON.readTree(files.get("manifest.json"));
        assertThat(manifest).hasSize(1);
        assertThat(manifest.get(0).get("RepoTags").toString()).isEqualTo("[\"round:1\",\"round:2\"]");
        assertThat(files).containsKey(manifest.get(0).get("Layers").get(0).asText());

        String other = tenant();
        as(other).body(archive).post("/images/load").then().statusCode(200)
                .body(equalTo("{\"stream\":\"Loaded image: round:1\\n\"}\r\n{\"stream\":\"Loaded image: round:2\\n\"}\r\n"));
        as(other).get("/images/round:2/json").then().statusCode(200).body("Id", equalTo(id))
                .body("Config.Cmd", equalTo(List.of("/bin/sh")));
        as(t).queryParam("names", "nothere").get("/images/get").then().statusCode(404)
                .body("message", equalTo("No such image: nothere"));
    }

    @Test
    void registryApiServesBlobsAndManifestsOfTheTenantOnly() throws Exception {
        String t = tenant();
        byte[] rootfs = Tars.rootfs("v2-" + t);
        String id = importId(t, rootfs, "reg/bb:1");
        String layer = Tars.sha256(rootfs);
        given().get("/v2/").then().statusCode(200).header("Docker-Distribution-Api-Version", "registry/2.0")
                .body(equalTo("{}"));

        as(t).head("/v2/reg/bb/blobs/" + layer).then().statusCode(200)
                .header("Content-Length", String.valueOf(rootfs.length))
                .header("Docker-Content-Digest", layer).contentType("application/octet-stream");
        byte[] served = as(t).get("/v2/reg/bb/blobs/" + layer).then().statusCode(200)
                .header("Docker-Content-Digest", layer).extract().asByteArray();
        assertThat(served).isEqualTo(rootfs);

        Response m = as(t).get("/v2/reg/bb/manifests/1");
        m.then().statusCode(200).contentType("application/vnd.docker.distribution.manifest.v2+json");
        byte[] manifestBytes = m.asByteArray();
        String digest = m.header("Docker-Content-Digest");
        assertThat(Tars.sha256(manifestBytes)).isEqualTo(digest);
        JsonNode manifest = JSON.readTree(manifestBytes);
        assertThat(manifest.path("schemaVersion").asInt()).isEqualTo(2);
        assertThat(manifest.path("config").path("digest").asText()).isEqualTo(id);
        assertThat(manifest.path("config").path("mediaType").asText())
                .isEqualTo("application/vnd.docker.container.image.v1+json");
        assertThat(manifest.path("layers").get(0).path("digest").asText()).isEqualTo(layer);
        assertThat(manifest.path("layers").get(0).path("mediaType").asText())
                .isEqualTo("application/vnd.docker.image.rootfs.diff.tar");
        assertThat(manifest.path("layers").get(0).path("size").asLong()).isEqualTo(rootfs.length);
        as(t).head("/v2/reg/bb/manifests/" + digest).then().statusCode(200).header("Docker-Content-Digest", digest)
                .header("Content-Length", String.valueOf(manifestBytes.length));
        as(t).get("/v2/docker.io/reg/bb/manifests/1").then().statusCode(200);
        as(t).get("/v2/reg/bb/tags/list").then().statusCode(200).body("name", equalTo("reg/bb"))
                .body("tags", equalTo(List.of("1")));

        as(t).get("/v2/reg/bb/manifests/nope").then().statusCode(404)
                .body("errors[0].code", equalTo("MANIFEST_UNKNOWN")).body("errors[0].detail.Tag", equalTo("nope"));
        String missing = "sha256:" + "0".repeat(64);
        as(t).get("/v2/reg/bb/blobs/" + missing).then().statusCode(404)
                .body("errors[0].code", equalTo("BLOB_UNKNOWN")).body("errors[0].detail", equalTo(missing));
        as(t).get("/v2/reg/bb/blobs/sha256:xyz").then().statusCode(400).body("errors[0].code", equalTo("DIGEST_INVALID"));

        // another tenant sees nothing of it, though the blob is on disk
        String other = tenant();
        as(other).get("/v2/reg/bb/blobs/" + layer).then().statusCode(404).body("errors[0].code", equalTo("BLOB_UNKNOWN"));
        as(other).get("/v2/reg/bb/manifests/1").then().statusCode(404);
        as(other).get("/v2/reg/bb/manifests/" + digest).then().statusCode(404);
        as(other).get("/v2/reg/bb/tags/list").then().statusCode(404).body("errors[0].code", equalTo("NAME_UNKNOWN"));
        as(other).get("/images/reg/bb:1/json").then().statusCode(404);
        as(other).get("/images/json").then().body("$", hasSize(0));
    }

    @Test
    void imageEventsReachKafkaWithWhatContainerServiceNeeds() throws Exception {
        String t = tenant();
        byte[] rootfs = Tars.rootfs("kafka-" + t);
        String id = importId(t, rootfs, "ev:1", "CMD [\"/bin/sh\"]", "ENV A=1", "EXPOSE 8080", "WORKDIR /app");
        as(t).queryParam("repo", "ev").queryParam("tag", "2").post("/images/ev:1/tag").then().statusCode(201);
        as(t).queryParam("force", "1").delete("/images/" + id).then().statusCode(200);
        String key = t + "/images";
        try (TopicReader topic = new TopicReader(bootstrap(), "berth.images.events")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> topic.byKey(key).size() >= 5);
            List<ConsumerRecord<String, String>> records = topic.byKey(key);
            List<String> types = records.stream().map(r -> TopicReader.headers(r).get("ce_type")).toList();
            assertThat(types).containsExactly("dev.berth.image.imported.v1", "dev.berth.image.tagged.v1",
                    "dev.berth.image.untagged.v1", "dev.berth.image.untagged.v1", "dev.berth.image.deleted.v1");
            Map<String, String> headers = TopicReader.headers(records.get(0));
            assertThat(headers).containsEntry("ce_source", "/image-service").containsEntry("ce_subject", key);
            JsonNode imported = JSON.readTree(records.get(0).value());
            assertThat(imported.path("imageId").asText()).isEqualTo(id);
            assertThat(imported.path("configDigest").asText()).isEqualTo(id);
            assertThat(imported.path("repoTags").toString()).isEqualTo("[\"ev:1\"]");
            assertThat(imported.path("config").path("Cmd").toString()).isEqualTo("[\"/bin/sh\"]");
            assertThat(imported.path("config").path("Env").toString()).isEqualTo("[\"A=1\"]");
            assertThat(imported.path("config").path("ExposedPorts").has("8080/tcp")).isTrue();
            assertThat(imported.path("config").path("WorkingDir").asText()).isEqualTo("/app");
            JsonNode l = imported.path("layers").get(0);
            assertThat(l.path("digest").asText()).isEqualTo(Tars.sha256(rootfs));
            assertThat(l.path("diffId").asText()).isEqualTo(Tars.sha256(rootfs));
            assertThat(l.path("size").asLong()).isEqualTo(rootfs.length);
            assertThat(l.path("mediaType").asText()).isEqualTo("application/vnd.docker.image.rootfs.diff.tar");
            assertThat(imported.path("created").asText()).isNotEmpty();
            assertThat(imported.path("size").asLong()).isPositive();
            assertThat(JSON.readTree(records.get(1).value()).path("reference").asText()).isEqualTo("ev:2");
            assertThat(JSON.readTree(records.get(4).value()).path("imageId").asText()).isEqualTo(id);
        }
    }

    @Test
    void replayRebuildsTheSameReadModel() throws Exception {
        String t = tenant();
        importId(t, Tars.rootfs("r1"), "r:1", "LABEL a=b");
        String two = importId(t, Tars.rootfs("r2"), "r:2");
        as(t).queryParam("repo", "r").queryParam("tag", "3").post("/images/r:2/tag").then().statusCode(201);
        importId(t, Tars.rootfs("r3"), "r:3");
        as(t).delete("/images/r:1").then().statusCode(200);
        List<List<Object>> before = readModel();
        String apiBefore = as(t).get("/images/json").then().statusCode(200).extract().asString();
        String inspectBefore = as(t).get("/images/" + two + "/json").then().statusCode(200).extract().asString();
        long replayed = given().post("/_berth/replay").then().statusCode(200).extract().jsonPath().getLong("events");
        assertThat(replayed).isGreaterThanOrEqualTo(7);
        assertThat(readModel()).isEqualTo(before);
        assertThat(as(t).get("/images/json").then().extract().asString()).isEqualTo(apiBefore);
        assertThat(as(t).get("/images/" + two + "/json").then().extract().asString()).isEqualTo(inspectBefore);
    }

    @Test
    void badInputGetsDockersStatusAndLeavesNothing() throws Exception {
        String t = tenant();
        List<String> before = blobFiles();
        importTar(t, "this is not a tar archive, not at all, it is just text".repeat(20).getBytes(), "bad:1")
                .then().statusCode(400).body("message", org.hamcrest.Matchers.startsWith("invalid tar archive"));
        byte[] truncated = java.util.Arrays.copyOf(Tars.rootfs("cut"), 5000);
        importTar(t, truncated, "bad:2").then().statusCode(400);
        importTar(t, new byte[0], "bad:3").then().statusCode(400);
        importTar(t, Tars.rootfs("x"), "Bad:1").then().statusCode(400)
                .body("message", equalTo("invalid reference format: repository name (Bad) must be lowercase"));
        importTar(t, Tars.rootfs("x"), "bad:1", "RUN true").then().statusCode(400)
                .body("message", equalTo("run is not a valid change command"));
        as(t).body("not a tar at all".repeat(40)).post("/images/load").then().statusCode(400);
        // a registry that is not there (port 1 on loopback refuses connections)
        as(t).queryParam("fromImage", "127.0.0.1:1/busybox").queryParam("tag", "latest").post("/images/create")
                .then().statusCode(500).body("message", org.hamcrest.Matchers.startsWith(
                        "Get \"http://127.0.0.1:1/v2/\": "));
        as(t).get("/images/json").then().statusCode(200).body(equalTo("[]"));
        assertThat(blobFiles()).isEqualTo(before);
        try (Connection c = database(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from events where tenant = '" + t + "'")) {
            rs.next();
            assertThat(rs.getLong(1)).isZero();
        }
        as(t).get("/images/nothing/json").then().statusCode(404).body("message", equalTo("No such image: nothing"));
        as(t).delete("/images/nothing").then().statusCode(404).body("message", equalTo("No such image: nothing"));
        as(t).get("/images/nothing/history").then().statusCode(404);
        given().queryParam("filters", "{\"colour\":[\"red\"]}").get("/images/json").then().statusCode(400)
                .body("message", equalTo("invalid filter 'colour'"));
        given().queryParam("all", "yes please").get("/images/json").then().statusCode(400);
        given().get("/images/nothing/here").then().statusCode(404).body("message", equalTo("page not found"));
        as("bad tenant!").get("/images/json").then().statusCode(400);
    }

    @Test
    void healthIsUpWithDatabaseAndKafka() {
        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                given().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP")));
    }

    private static List<String> ids(String tenant, String filters) {
        RequestSpecification spec = as(tenant);
        if (filters != null) {
            spec = spec.queryParam("filters", filters);
        }
        return spec.get("/images/json").then().statusCode(200).extract().jsonPath().getList("Id");
    }

    private static List<String> blobFiles() throws Exception {
        if (!Files.isDirectory(BLOBS)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(BLOBS)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static List<List<Object>> readModel() throws Exception {
        List<List<Object>> rows = new ArrayList<>();
        try (Connection c = database(); Statement s = c.createStatement()) {
            for (String q : List.of("select * from image_view order by view_key",
                    "select * from image_blob order by tenant, image_id, digest")) {
                try (ResultSet rs = s.executeQuery(q)) {
                    int n = rs.getMetaData().getColumnCount();
                    while (rs.next()) {
                        List<Object> row = new ArrayList<>();
                        for (int i = 1; i <= n; i++) {
                            row.add(rs.getObject(i));
                        }
                        rows.add(row);
                    }
                }
            }
        }
        return rows;
    }

    private static void sql(String statement) throws Exception {
        try (Connection c = database(); Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }

    private static String bootstrap() {
        return ConfigProvider.getConfig().getValue("kafka.bootstrap.servers", String.class);
    }

    private static Connection database() throws Exception {
        return PostgresServer.shared().connect(ConfigProvider.getConfig().getValue("berth.test.database", String.class));
    }
}
