package dev.berth.image.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code docker save} and {@code docker load} between Berth and a real dockerd (Debian's docker.io, started privately
 * for each test), both ways, as a user of the docker CLI sees them: the same image ids, tags, layers, history and
 * config on both sides, and the images run in dockerd.
 */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class DockerdInteropTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;

    @Test
    void imagesSavedByBerthLoadIntoDockerdWithTheirIdsTagsAndFiles() throws Exception {
        String t = tenant();
        String base = importImage(t, Archives.rootfs("hello from berth\n"), "ib:1", "CMD [\"cat\", \"/etc/hello.txt\"]");
        as(t).queryParam("repo", "team/ib").queryParam("tag", "2").post("/images/ib:1/tag").then().statusCode(201);
        String another = importImage(t, Archives.rootfs("another image\n"), "ix:1", "CMD [\"cat\", \"/etc/hello.txt\"]");
        String untagged = importImage(t, Archives.rootfs("no name\n"), null, "CMD [\"cat\", \"/etc/hello.txt\"]");
        // several layers, made by Berth's builder: the base, WORKDIR, two COPY steps
        Map<String, byte[]> context = new LinkedHashMap<>();
        context.put("Dockerfile", ("FROM ib:1\nWORKDIR /app\nCOPY a.txt .\nCOPY sub/ ./sub/\nENV GREETING=hi\n"
                + "CMD [\"cat\", \"/app/a.txt\", \"/app/sub/b.txt\"]\n").getBytes(StandardCharsets.UTF_8));
        context.put("a.txt", "file a\n".getBytes(StandardCharsets.UTF_8));
        context.put("sub/b.txt", "file b\n".getBytes(StandardCharsets.UTF_8));
        String built = as(t).contentType("application/x-tar").body(Archives.tar(context)).queryParam("t", "im:1")
                .post("/build").then().statusCode(200).extract().asString();
        assertThat(built).contains("Successfully tagged im:1").doesNotContain("errorDetail");
        JsonNode builtImage = berthInspect(t, "im:1");
        assertThat(builtImage.path("RootFS").path("Layers")).hasSize(4);

        try (Dockerd dockerd = Dockerd.start()) {
            // one image
            Path single = save(t, "im:1");
            assertThat(dockerd.docker("load", "-i", single.toString())).isEqualTo("Loaded image: im:1\n");
            JsonNode loaded = dockerInspect(dockerd, "im:1");
            assertThat(loaded.path("Id").asText()).isEqualTo(builtImage.path("Id").asText());
            assertThat(loaded.path("RepoTags")).isEqualTo(JSON.readTree("[\"im:1\"]"));
            assertThat(loaded.path("RootFS").path("Layers")).isEqualTo(builtImage.path("RootFS").path("Layers"));
            assertThat(loaded.path("Config").path("WorkingDir").asText()).isEqualTo("/app");
            assertThat(loaded.path("Size").asLong()).isEqualTo(builtImage.path("Size").asLong());
            assertThat(dockerHistory(dockerd, "im:1")).isEqualTo(berthHistory(t, "im:1"));
            assertThat(run(dockerd, "im:1")).isEqualTo("file a\nfile b\n");

            // several images, two tags of one, and one saved by its id (untagged in the archive). dockerd prints
            // "Loaded image ID" lines, for every image, only when the archive's last image has no tag: first here.
            Path several = save(t, untagged, "ib:1", "team/ib:2", "ix:1");
            assertThat(dockerd.docker("load", "-i", several.toString()).lines().toList())
                    .containsExactly("Loaded image: ib:1", "Loaded image: team/ib:2", "Loaded image: ix:1");
            assertThat(dockerInspect(dockerd, "ib:1").path("Id").asText()).isEqualTo(base);
            assertThat(dockerInspect(dockerd, "team/ib:2").path("Id").asText()).isEqualTo(base);
            assertThat(dockerInspect(dockerd, "ix:1").path("Id").asText()).isEqualTo(another);
            assertThat(dockerInspect(dockerd, untagged).path("RepoTags")).isEmpty();
            assertThat(run(dockerd, "team/ib:2")).isEqualTo("hello from berth\n");
            assertThat(run(dockerd, "ix:1")).isEqualTo("another image\n");
            assertThat(run(dockerd, untagged)).isEqualTo("no name\n");
        }
    }

    @Test
    void imagesSavedByDockerdLoadIntoBerthAndGoBackWithTheSameIds() throws Exception {
        Path rootfs = Files.write(work.resolve("rootfs.tar"), Archives.rootfs("hello from dockerd\n"));
        Path other = Files.write(work.resolve("other.tar"), Archives.rootfs("untagged one\n"));
        Path ctx = Files.createDirectories(work.resolve("ctx"));
        Files.writeString(ctx.resolve("Dockerfile"), "FROM di:1\nWORKDIR /app\nCOPY a.txt .\n"
                + "RUN echo built > /app/b.txt\nENV X=1\nCMD [\"cat\", \"/app/a.txt\", \"/app/b.txt\"]\n");
        Files.writeString(ctx.resolve("a.txt"), "copied\n");
        String t1 = tenant();
        String t2 = tenant();
        Map<String, String> ids = new LinkedHashMap<>();
        try (Dockerd dockerd = Dockerd.start()) {
            ids.put("di:1", dockerd.docker("import", "-c", "CMD [\"cat\", \"/etc/hello.txt\"]", "-c", "ENV A=1",
                    "-m", "from dockerd", rootfs.toString(), "di:1").trim());
            dockerd.docker("build", "--network", "none", "-t", "db:1", ctx.toString());
            ids.put("db:1", dockerInspect(dockerd, "db:1").path("Id").asText());
            String untagged = dockerd.docker("import", "-c", "CMD [\"cat\", \"/etc/hello.txt\"]", other.toString())
                    .trim();
            ids.put(untagged, untagged);
            assertThat(dockerInspect(dockerd, "db:1").path("RootFS").path("Layers")).hasSize(4);

            // one image
            Path single = work.resolve("single.tar");
            dockerd.docker("save", "-o", single.toString(), "db:1");
            as(t1).contentType("application/x-tar").body(Files.readAllBytes(single)).post("/images/load").then()
                    .statusCode(200).body(org.hamcrest.Matchers.equalTo("{\"stream\":\"Loaded image: db:1\\n\"}\r\n"));
            JsonNode theirs = dockerInspect(dockerd, "db:1");
            JsonNode ours = berthInspect(t1, "db:1");
            assertThat(ours.path("Id")).isEqualTo(theirs.path("Id"));
            assertThat(ours.path("RepoTags")).isEqualTo(theirs.path("RepoTags"));
            assertThat(ours.path("RootFS")).isEqualTo(theirs.path("RootFS"));
            assertThat(ours.path("Created")).isEqualTo(theirs.path("Created"));
            assertThat(ours.path("Size")).isEqualTo(theirs.path("Size"));
            for (String field : List.of("Cmd", "Env", "WorkingDir", "Entrypoint", "User")) {
                assertThat(ours.path("Config").path(field)).as(field).isEqualTo(theirs.path("Config").path(field));
            }
            assertThat(berthHistory(t1, "db:1")).isEqualTo(dockerHistory(dockerd, "db:1"));

            // several images sharing a layer (dockerd writes it once and links to it), one saved by id
            Path several = work.resolve("several.tar");
            dockerd.docker("save", "-o", several.toString(), "di:1", "db:1", untagged);
            String body = as(t2).contentType("application/x-tar").body(Files.readAllBytes(several))
                    .post("/images/load").then().statusCode(200).extract().asString();
            assertThat(body.split("\r\n")).containsExactlyInAnyOrder(
                    "{\"stream\":\"Loaded image: di:1\\n\"}", "{\"stream\":\"Loaded image: db:1\\n\"}",
                    "{\"stream\":\"Loaded image ID: " + untagged + "\\n\"}");
            for (var e : ids.entrySet()) {
                JsonNode b = berthInspect(t2, e.getKey());
                assertThat(b.path("Id").asText()).as(e.getKey()).isEqualTo(e.getValue());
                JsonNode d = dockerInspect(dockerd, e.getKey());
                assertThat(b.path("RepoTags")).as(e.getKey()).isEqualTo(d.path("RepoTags"));
                assertThat(b.path("RootFS")).as(e.getKey()).isEqualTo(d.path("RootFS"));
                assertThat(b.path("Comment")).as(e.getKey()).isEqualTo(d.path("Comment"));
                assertThat(berthHistory(t2, e.getKey())).as(e.getKey()).isEqualTo(dockerHistory(dockerd, e.getKey()));
            }
        }

        // and back: saved by Berth, loaded by a daemon that never saw them
        String untagged = ids.keySet().stream().filter(k -> k.startsWith("sha256:")).findFirst().orElseThrow();
        Path back = save(t2, untagged, "di:1", "db:1");
        try (Dockerd fresh = Dockerd.start()) {
            assertThat(fresh.docker("image", "ls", "-q")).isEmpty();
            assertThat(fresh.docker("load", "-i", back.toString()).lines().toList())
                    .containsExactly("Loaded image: di:1", "Loaded image: db:1");
            for (var e : ids.entrySet()) {
                assertThat(dockerInspect(fresh, e.getKey()).path("Id").asText()).as(e.getKey())
                        .isEqualTo(e.getValue());
            }
            assertThat(run(fresh, "db:1")).isEqualTo("copied\nbuilt\n");
            assertThat(run(fresh, "di:1")).isEqualTo("hello from dockerd\n");
            assertThat(run(fresh, untagged)).isEqualTo("untagged one\n");
            assertThat(dockerInspect(fresh, "db:1").path("Config").path("Env"))
                    .isEqualTo(berthInspect(t2, "db:1").path("Config").path("Env"));
        }
    }

    private static String tenant() {
        return "i" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static RequestSpecification as(String tenant) {
        return given().header("X-Berth-Tenant", tenant);
    }

    private static String importImage(String tenant, byte[] rootfs, String repo, String... changes) {
        RequestSpecification spec = as(tenant).contentType("text/plain").body(rootfs).queryParam("fromSrc", "-")
                .queryParam("changes", (Object[]) changes);
        if (repo != null) {
            spec = spec.queryParam("repo", repo);
        }
        String body = spec.post("/images/create").then().statusCode(200).extract().asString();
        assertThat(body).matches("\\{\"status\":\"sha256:[a-f0-9]{64}\"}\r\n");
        return body.substring(11, 82);
    }

    private Path save(String tenant, String... names) throws IOException {
        byte[] archive = as(tenant).queryParam("names", (Object[]) names).get("/images/get").then().statusCode(200)
                .contentType("application/x-tar").extract().asByteArray();
        return Files.write(Files.createTempFile(work, "berth-save", ".tar"), archive);
    }

    private static JsonNode berthInspect(String tenant, String name) throws IOException {
        return JSON.readTree(as(tenant).get("/images/" + name + "/json").then().statusCode(200).extract().asString());
    }

    private static JsonNode dockerInspect(Dockerd dockerd, String name) throws IOException {
        JsonNode all = JSON.readTree(dockerd.docker("image", "inspect", name));
        assertThat(all).hasSize(1);
        return all.get(0);
    }

    private static String run(Dockerd dockerd, String image) {
        return dockerd.docker("run", "--rm", "--network", "none", image);
    }

    /** A history line as {@code docker history} shows it (the ids of intermediate steps aside). */
    record Step(String createdBy, long created, long size, String comment) {
    }

    private static List<Step> berthHistory(String tenant, String name) throws IOException {
        List<Step> out = new ArrayList<>();
        for (JsonNode h : JSON.readTree(as(tenant).get("/images/" + name + "/history").then().statusCode(200)
                .extract().asString())) {
            out.add(new Step(h.path("CreatedBy").asText(), h.path("Created").asLong(), h.path("Size").asLong(),
                    h.path("Comment").asText()));
        }
        return out;
    }

    private static List<Step> dockerHistory(Dockerd dockerd, String name) throws IOException {
        List<Step> out = new ArrayList<>();
        String lines = dockerd.docker("history", "--no-trunc", "--human=false", "--format", "{{json .}}", name);
        for (String line : Arrays.stream(lines.split("\n")).filter(l -> !l.isBlank()).toList()) {
            JsonNode h = JSON.readTree(line);
            out.add(new Step(h.path("CreatedBy").asText(),
                    OffsetDateTime.parse(h.path("CreatedAt").asText()).toEpochSecond(),
                    Long.parseLong(h.path("Size").asText()), h.path("Comment").asText()));
        }
        return out;
    }
}
