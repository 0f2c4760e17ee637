package dev.berth.image.build;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.GZIPOutputStream;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

/** {@code POST /build} as the docker CLI's legacy builder path uses it, over a real PostgreSQL and Kafka broker. */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class BuildApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String tenant() {
        return "b" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static RequestSpecification as(String tenant) {
        return given().header("X-Berth-Tenant", tenant);
    }

    /** A base image like busybox: /bin/busybox from the host, /bin/sh, /etc/passwd with an app user. */
    private static void importBase(String tenant, String repo) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            dir(tar, "bin/", 0755);
            file(tar, "bin/busybox", Files.readAllBytes(Path.of("/bin/busybox")), 0755);
            TarArchiveEntry sh = new TarArchiveEntry("bin/sh", TarArchiveEntry.LF_SYMLINK);
            sh.setLinkName("busybox");
            tar.putArchiveEntry(sh);
            tar.closeArchiveEntry();
            dir(tar, "etc/", 0755);
            file(tar, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
                    .getBytes(StandardCharsets.UTF_8), 0644);
            file(tar, "etc/group", "root:x:0:\napp:x:1001:\n".getBytes(StandardCharsets.UTF_8), 0644);
        }
        as(tenant).contentType("text/plain").body(bytes.toByteArray()).queryParam("fromSrc", "-")
                .queryParam("repo", repo).queryParam("changes", "CMD [\"/bin/sh\"]")
                .post("/images/create").then().statusCode(200);
    }

    private static byte[] context(Map<String, String> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (var e : files.entrySet()) {
                file(tar, e.getKey(), e.getValue().getBytes(StandardCharsets.UTF_8), 0644);
            }
        }
        return bytes.toByteArray();
    }

    private static byte[] contextWith(Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            for (var e : files.entrySet()) {
                file(tar, e.getKey(), e.getValue(), 0644);
            }
        }
        return bytes.toByteArray();
    }

    private static void dir(TarArchiveOutputStream tar, String name, int mode) throws IOException {
        TarArchiveEntry d = new TarArchiveEntry(name);
        d.setMode(040000 | mode);
        tar.putArchiveEntry(d);
        tar.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream tar, String name, byte[] content, int mode) throws IOException {
        TarArchiveEntry f = new TarArchiveEntry(name);
        f.setSize(content.length);
        f.setMode(0100000 | mode);
        tar.putArchiveEntry(f);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    /** The build's messages, parsed. */
    private static List<JsonNode> build(String tenant, byte[] context, Map<String, String> query) throws IOException {
        RequestSpecification spec = as(tenant).contentType("application/x-tar").body(context);
        for (var q : query.entrySet()) {
            spec = spec.queryParam(q.getKey(), q.getValue());
        }
        String body = spec.post("/build").then().statusCode(200).contentType("application/json").extract().asString();
        List<JsonNode> out = new ArrayList<>();
        for (String line : body.split("\r\n")) {
            if (!line.isEmpty()) {
                out.add(JSON.readTree(line));
            }
        }
        return out;
    }

    private static String text(List<JsonNode> messages) {
        StringBuilder b = new StringBuilder();
        messages.forEach(m -> b.append(m.path("stream").asText("")));
        return b.toString();
    }

    private static List<String> auxIds(List<JsonNode> messages) {
        return messages.stream().filter(m -> m.has("aux")).map(m -> m.path("aux").path("ID").asText()).toList();
    }

    private static JsonNode error(List<JsonNode> messages) {
        return messages.stream().filter(m -> m.has("errorDetail")).findFirst().orElse(null);
    }

    /** The entries of a layer served by the registry API: name to entry. */
    private static Map<String, TarArchiveEntry> layer(String tenant, String repo, String digest,
                                                      Map<String, String> contents) throws IOException {
        byte[] blob = as(tenant).get("/v2/" + repo + "/blobs/" + digest).then().statusCode(200).extract()
                .asByteArray();
        Map<String, TarArchiveEntry> out = new LinkedHashMap<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new ByteArrayInputStream(blob))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                out.put(e.getName(), e);
                if (e.isFile()) {
                    contents.put(e.getName(), new String(tar.readAllBytes(), StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }

    private static List<String> layers(String tenant, String name) {
        return as(tenant).get("/images/" + name + "/json").then().statusCode(200).extract().path("RootFS.Layers");
    }

    @Test
    void classicShapeBuildsAnImageWithItsLayersHistoryAndTag() throws Exception {
        String t = tenant();
        importBase(t, "bb:1");
        List<String> baseLayers = layers(t, "bb:1");
        byte[] ctx = context(Map.of(
                "Dockerfile", "FROM bb:1\nWORKDIR /app\nCOPY . .\nENV GREETING=hi\nEXPOSE 80\n"
                        + "CMD [\"cat\", \"/app/hello.txt\"]\n",
                "hello.txt", "hello from context\n",
                "sub/inner.txt", "inner\n",
                ".dockerignore", "secret.txt\n",
                "secret.txt", "do not ship\n"));
        List<JsonNode> messages = build(t, ctx, Map.of("t", "app:1"));
        String out = text(messages);
        assertThat(error(messages)).isNull();
        assertThat(out).contains("Step 1/6 : FROM bb:1\n", "Step 2/6 : WORKDIR /app\n", "Step 3/6 : COPY . .\n",
                "Step 6/6 : CMD [\"cat\", \"/app/hello.txt\"]\n");
        assertThat(out).doesNotContain("Using cache");
        String id = auxIds(messages).get(auxIds(messages).size() - 1);
        assertThat(id).matches("sha256:[a-f0-9]{64}");
        assertThat(out).endsWith("Successfully built " + id.substring(7, 19) + "\nSuccessfully tagged app:1\n");

        as(t).get("/images/app:1/json").then().statusCode(200)
                .body("Id", equalTo(id))
                .body("Config.Cmd", equalTo(List.of("cat", "/app/hello.txt")))
                .body("Config.WorkingDir", equalTo("/app"))
                .body("Config.Env", equalTo(List.of("GREETING=hi")))
                .body("Config.ExposedPorts.'80/tcp'", equalTo(Map.of()));
        List<String> built = layers(t, "app:1");
        assertThat(built).hasSize(baseLayers.size() + 2).startsWith(baseLayers.toArray(String[]::new));

        Map<String, String> files = new LinkedHashMap<>();
        Map<String, TarArchiveEntry> workdir = layer(t, "app", built.get(1), files);
        assertThat(workdir.keySet()).containsExactly("app/");
        Map<String, TarArchiveEntry> copied = layer(t, "app", built.get(2), files);
        assertThat(copied.keySet()).contains("app/", "app/hello.txt", "app/Dockerfile", "app/sub/",
                "app/sub/inner.txt", "app/.dockerignore").doesNotContain("app/secret.txt");
        assertThat(files).containsEntry("app/hello.txt", "hello from context\n");
        assertThat(copied.get("app/hello.txt").getLongUserId()).isZero();
        assertThat(copied.get("app/hello.txt").getMode() & 07777).isEqualTo(0644);

        // history: one entry per step, newest first, config-only steps without a layer
        List<Map<String, Object>> history = as(t).get("/images/app:1/history").then().statusCode(200).extract()
                .path("");
        assertThat(history).hasSize(6);
        assertThat((String) history.get(0).get("CreatedBy")).contains("CMD [\"cat\",\"/app/hello.txt\"]");
        assertThat(history.get(0).get("Id")).isEqualTo(id);
        assertThat((String) history.get(3).get("CreatedBy")).contains("COPY").contains(" in /app/. ");
        assertThat((String) history.get(4).get("CreatedBy")).contains("WORKDIR /app");
    }

    @Test
    void aWarmRebuildHitsTheCacheForEveryStepAndNoCacheBypassesIt() throws Exception {
        String t = tenant();
        importBase(t, "bb:1");
        String dockerfile = "FROM bb:1\nARG V=1\nWORKDIR /app\nCOPY hello.txt .\nENV V=$V\nLABEL a=b\nCMD [\"x\"]\n";
        byte[] ctx = context(Map.of("Dockerfile", dockerfile, "hello.txt", "one\n"));
        List<JsonNode> cold = build(t, ctx, Map.of("t", "c:1"));
        String coldId = auxIds(cold).get(0);
        assertThat(text(cold)).doesNotContain("Using cache");

        List<JsonNode> warm = build(t, ctx, Map.of("t", "c:2"));
        assertThat(auxIds(warm)).containsExactly(coldId);
        String warmText = text(warm);
        assertThat(warmText.split(" ---> Using cache\n", -1)).hasSize(7);
        assertThat(as(t).get("/images/c:2/json").then().statusCode(200).extract().<String>path("Id"))
                .isEqualTo(coldId);

        // a changed source misses from its COPY on; the steps before still hit
        byte[] changed = context(Map.of("Dockerfile", dockerfile, "hello.txt", "two\n"));
        List<JsonNode> partly = build(t, changed, Map.of());
        assertThat(text(partly).split(" ---> Using cache\n", -1)).hasSize(3);
        assertThat(auxIds(partly).get(0)).isNotEqualTo(coldId);

        // a build arg changes the steps that use it
        List<JsonNode> withArg = build(t, ctx, Map.of("buildargs", "{\"V\":\"2\"}"));
        assertThat(auxIds(withArg).get(0)).isNotEqualTo(coldId);
        as(t).get("/images/" + auxIds(withArg).get(0) + "/json").then().statusCode(200)
                .body("Config.Env", equalTo(List.of("V=2")));

        List<JsonNode> noCache = build(t, ctx, Map.of("nocache", "1"));
        assertThat(text(noCache)).doesNotContain("Using cache");
        assertThat(auxIds(noCache).get(0)).isNotEqualTo(coldId);
    }

    @Test
    void multiStageFinalImageHoldsOnlyTheCopiedArtifactAndTargetStopsEarly() throws Exception {
        String t = tenant();
        importBase(t, "bb:1");
        byte[] ctx = context(Map.of("Dockerfile.multi", """
                FROM bb:1 AS builder
                WORKDIR /out
                COPY hello.txt a.txt
                FROM scratch
                COPY --from=builder /out/a.txt /a.txt
                CMD ["/a.txt"]
                """, "hello.txt", "artifact\n"));
        List<JsonNode> messages = build(t, ctx, Map.of("dockerfile", "Dockerfile.multi", "t", "multi:1"));
        assertThat(error(messages)).isNull();
        assertThat(auxIds(messages)).hasSize(2);
        String out = text(messages);
        assertThat(out).contains("Step 4/6 : FROM scratch\n", "Step 5/6 : COPY --from=builder /out/a.txt /a.txt\n");
        List<String> layers = layers(t, "multi:1");
        assertThat(layers).hasSize(1);
        Map<String, String> files = new LinkedHashMap<>();
        assertThat(layer(t, "multi", layers.get(0), files).keySet()).containsExactly("a.txt");
        assertThat(files).containsEntry("a.txt", "artifact\n");
        as(t).get("/images/multi:1/json").then().statusCode(200).body("Config.Cmd", equalTo(List.of("/a.txt")))
                .body("Id", equalTo(auxIds(messages).get(1)));

        List<JsonNode> targeted = build(t, ctx, Map.of("dockerfile", "Dockerfile.multi", "target", "builder",
                "t", "multi:builder"));
        assertThat(auxIds(targeted)).containsExactly(auxIds(messages).get(0));
        assertThat(text(targeted)).contains("Step 1/3 : FROM bb:1 AS builder").doesNotContain("scratch");
        assertThat(layers(t, "multi:builder")).hasSize(3);
    }

    @Test
    void dockerfileSyntaxErrorsAreRefusedBeforeTheStreamWithTheirLine() throws Exception {
        String t = tenant();
        as(t).contentType("application/x-tar").body(context(Map.of("Dockerfile", "FROM x\n\nFOO bar\n")))
                .post("/build").then().statusCode(400)
                .body("message", equalTo("Dockerfile parse error line 3: unknown instruction: FOO"));
        as(t).contentType("application/x-tar").body(context(Map.of("Dockerfile", "FROM x\nCOPY --form=a b c\n")))
                .post("/build").then().statusCode(400)
                .body("message", equalTo("Dockerfile parse error line 2: Unknown flag: form"));
        as(t).contentType("application/x-tar").body(context(Map.of("other", "x")))
                .post("/build").then().statusCode(400)
                .body("message", equalTo("Cannot locate specified Dockerfile: Dockerfile"));
        as(t).contentType("application/x-tar").body("not a tar at all".getBytes(StandardCharsets.UTF_8))
                .post("/build").then().statusCode(400);
        as(t).contentType("application/x-tar").body(context(Map.of("Dockerfile", "FROM x AS a\n")))
                .queryParam("target", "b").post("/build").then().statusCode(400)
                .body("message", equalTo("failed to reach build target b in Dockerfile"));
        as(t).contentType("application/x-tar").body(context(Map.of("Dockerfile", "FROM x\n")))
                .queryParam("t", "Bad:Name").post("/build").then().statusCode(400);
    }

    @Test
    void copyOfAMissingOrOutsideSourceFailsInTheStreamAndTagsNothing() throws Exception {
        String t = tenant();
        importBase(t, "bb:1");
        List<JsonNode> missing = build(t, context(Map.of("Dockerfile", "FROM bb:1\nCOPY nothere.txt /x\n")),
                Map.of("t", "broken:1"));
        assertThat(error(missing).path("error").asText()).isEqualTo("COPY failed: file not found in build context "
                + "or excluded by .dockerignore: stat nothere.txt: file does not exist");
        assertThat(error(missing).path("errorDetail").path("message").asText())
                .isEqualTo(error(missing).path("error").asText());
        assertThat(text(missing)).doesNotContain("Successfully");
        as(t).get("/images/broken:1/json").then().statusCode(404);

        List<JsonNode> outside = build(t, context(Map.of("Dockerfile", "FROM bb:1\nCOPY ../etc/passwd /x\n")),
                Map.of("t", "broken:1"));
        assertThat(error(outside).path("error").asText())
                .isEqualTo("Forbidden path outside the build context: ../etc/passwd ()");

        List<JsonNode> ignored = build(t, context(Map.of("Dockerfile", "FROM bb:1\nCOPY secret.txt /x\n",
                ".dockerignore", "secret.txt", "secret.txt", "s")), Map.of("t", "broken:1"));
        assertThat(error(ignored).path("error").asText()).startsWith("COPY failed: file not found in build context");

        List<JsonNode> glob = build(t, context(Map.of("Dockerfile", "FROM bb:1\nCOPY *.none /x/\n")), Map.of());
        assertThat(error(glob).path("error").asText()).isEqualTo("COPY failed: no source files were specified");

        List<JsonNode> mount = build(t, context(Map.of("Dockerfile", "FROM bb:1\nRUN --mount=type=cache,target=/c true\n")),
                Map.of("t", "broken:1"));
        assertThat(error(mount).path("error").asText())
                .isEqualTo("the --mount option requires BuildKit, which Berth does not provide");

        List<JsonNode> noBase = build(t, context(Map.of("Dockerfile", "FROM nope:1\n")), Map.of("t", "broken:1"));
        assertThat(error(noBase).path("error").asText()).startsWith("pull access denied for nope");
        as(t).get("/images/broken:1/json").then().statusCode(404);
        assertThat(as(t).get("/images/json").then().statusCode(200).extract().<List<Object>>path("")).hasSize(1);
    }

    @Test
    void buildArgsLabelsQuietAndTheUnusedArgWarning() throws Exception {
        String t = tenant();
        importBase(t, "bb:1");
        byte[] ctx = context(Map.of("Dockerfile", "ARG TAG=1\nFROM bb:${TAG}\nARG WHO\nARG TAG\n"
                + "ENV WHO=${WHO:-nobody} FROM_TAG=$TAG\nUSER ${WHO:+app}\n"));
        List<JsonNode> messages = build(t, ctx, Map.of("t", "args:1", "buildargs", "{\"WHO\":\"me\",\"UNUSED\":\"x\"}",
                "labels", "{\"extra\":\"1\"}"));
        assertThat(error(messages)).isNull();
        String out = text(messages);
        assertThat(out).contains("Step 1/7 : ARG TAG=1\n", "Step 7/7 : LABEL extra=1\n",
                "[Warning] One or more build-args [UNUSED] were not consumed\n");
        as(t).get("/images/args:1/json").then().statusCode(200)
                .body("Config.Env", equalTo(List.of("WHO=me", "FROM_TAG=1")))
                .body("Config.User", equalTo("app"))
                .body("Config.Labels.extra", equalTo("1"));

        List<JsonNode> quiet = build(t, ctx, Map.of("q", "1", "t", "args:2"));
        assertThat(quiet).hasSize(1);
        String id = quiet.get(0).path("stream").asText().strip();
        as(t).get("/images/args:2/json").then().statusCode(200).body("Id", equalTo(id))
                .body("Config.Env", equalTo(List.of("WHO=nobody", "FROM_TAG=1")));
    }

    @Test
    void addExtractsALocalTarAndCopyChownUsesTheImageUsers() throws Exception {
        String t = tenant();
        importBase(t, "bb:1");
        byte[] inner = context(Map.of("pkg/x.txt", "from the tar\n"));
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(gz)) {
            g.write(inner);
        }
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("Dockerfile", ("FROM bb:1\nADD pkg.tar.gz /opt/\nCOPY --chown=app:app plain.txt /home/app/\n"
                + "COPY --chown=42 plain.txt /n.txt\nHEALTHCHECK --interval=5s CMD true\nSTOPSIGNAL SIGINT\n"
                + "VOLUME /data\nONBUILD RUN echo later\n").getBytes(StandardCharsets.UTF_8));
        files.put("pkg.tar.gz", gz.toByteArray());
        files.put("plain.txt", "p\n".getBytes(StandardCharsets.UTF_8));
        List<JsonNode> messages = build(t, contextWith(files), Map.of("t", "add:1"));
        assertThat(error(messages)).isNull();
        List<String> layers = layers(t, "add:1");
        Map<String, String> contents = new LinkedHashMap<>();
        Map<String, TarArchiveEntry> added = layer(t, "add", layers.get(1), contents);
        assertThat(added.keySet()).contains("opt/", "opt/pkg/x.txt");
        assertThat(contents).containsEntry("opt/pkg/x.txt", "from the tar\n");
        Map<String, TarArchiveEntry> owned = layer(t, "add", layers.get(2), contents);
        assertThat(owned.get("home/app/plain.txt").getLongUserId()).isEqualTo(1000);
        assertThat(owned.get("home/app/plain.txt").getLongGroupId()).isEqualTo(1001);
        Map<String, TarArchiveEntry> numeric = layer(t, "add", layers.get(3), contents);
        assertThat(numeric.get("n.txt").getLongUserId()).isEqualTo(42);
        assertThat(numeric.get("n.txt").getLongGroupId()).isEqualTo(42);
        as(t).get("/images/add:1/json").then().statusCode(200)
                .body("Config.Healthcheck.Test", equalTo(List.of("CMD-SHELL", "true")))
                .body("Config.Healthcheck.Interval", equalTo(5_000_000_000L))
                .body("Config.StopSignal", equalTo("SIGINT"))
                .body("Config.Volumes.'/data'", equalTo(Map.of()))
                .body("Config.OnBuild", equalTo(List.of("RUN echo later")));

        List<JsonNode> badUser = build(t, context(Map.of("Dockerfile", "FROM bb:1\nCOPY --chown=ghost Dockerfile /\n")),
                Map.of());
        assertThat(error(badUser).path("error").asText()).contains("can't find uid for user ghost");
    }

    @Test
    void symbolicLinksInTheContextNeverReachOutsideIt() throws Exception {
        String t = tenant();
        importBase(t, "bb:1");
        String escaped = "berth-escape-" + UUID.randomUUID();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            file(tar, "Dockerfile", "FROM bb:1\nCOPY out/hosts /x\n".getBytes(StandardCharsets.UTF_8), 0644);
            TarArchiveEntry link = new TarArchiveEntry("out", TarArchiveEntry.LF_SYMLINK);
            link.setLinkName("/etc");
            tar.putArchiveEntry(link);
            tar.closeArchiveEntry();
            TarArchiveEntry tmp = new TarArchiveEntry("tmp", TarArchiveEntry.LF_SYMLINK);
            tmp.setLinkName("/tmp");
            tar.putArchiveEntry(tmp);
            tar.closeArchiveEntry();
            file(tar, "tmp/" + escaped, "x".getBytes(StandardCharsets.UTF_8), 0644);
        }
        List<JsonNode> messages = build(t, bytes.toByteArray(), Map.of("t", "esc:1"));
        assertThat(error(messages).path("error").asText())
                .isEqualTo("Forbidden path outside the build context: out/hosts ()");
        assertThat(Path.of("/tmp", escaped)).doesNotExist();
        as(t).get("/images/esc:1/json").then().statusCode(404);
    }
}
