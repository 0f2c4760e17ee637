package dev.berth.image.interop;

import dev.berth.image.interop.Archives.Link;
import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

/**
 * The shapes of save archives real Docker engines write, as Berth's {@code docker load} must read them, without a
 * dockerd: {@link DockerdInteropTest} checks the same against a real one.
 */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class SaveArchiveFormatTest {

    private static String tenant() {
        return "f" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static RequestSpecification as(String tenant) {
        return given().header("X-Berth-Tenant", tenant);
    }

    private static byte[] config(String cmd, String... diffIds) {
        return ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-05-06T07:08:09Z\",\"config\":{\"Cmd\":[\""
                + cmd + "\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + String.join("\",\"", diffIds)
                + "\"]}}").getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aLayerSharedByTwoImagesIsReadThroughTheLinkDockerdWritesForIt() throws Exception {
        // dockerd 20.10 writes a layer once per diff id; another image's layer directory links to it
        byte[] base = Archives.rootfs("shared base\n");
        byte[] top = Archives.tar(Map.of("etc/top.txt", utf8("top\n")));
        byte[] one = config("one", Archives.sha256(base));
        byte[] two = config("two", Archives.sha256(base), Archives.sha256(top));
        Map<String, Object> archive = new LinkedHashMap<>();
        archive.put("aaa/VERSION", utf8("1.0"));
        archive.put("aaa/layer.tar", base);
        archive.put("bbb/layer.tar", new Link("../aaa/layer.tar", false));
        archive.put("ccc/layer.tar", top);
        archive.put("ddd/layer.tar", new Link("ccc/layer.tar", true));
        archive.put(Archives.sha256(one).substring(7) + ".json", one);
        archive.put(Archives.sha256(two).substring(7) + ".json", two);
        archive.put("manifest.json", utf8("[{\"Config\":\"" + Archives.sha256(one).substring(7) + ".json\","
                + "\"RepoTags\":[\"one:1\"],\"Layers\":[\"aaa/layer.tar\"]},{\"Config\":\""
                + Archives.sha256(two).substring(7) + ".json\",\"RepoTags\":[\"two:1\"],\"Layers\":[\"bbb/layer.tar\","
                + "\"ddd/layer.tar\"]}]"));
        String t = tenant();
        as(t).contentType("application/x-tar").body(Archives.tar(archive)).post("/images/load").then().statusCode(200)
                .body(equalTo("{\"stream\":\"Loaded image: one:1\\n\"}\r\n{\"stream\":\"Loaded image: two:1\\n\"}\r\n"));
        as(t).get("/images/two:1/json").then().statusCode(200).body("Id", equalTo(Archives.sha256(two)))
                .body("RootFS.Layers", equalTo(List.of(Archives.sha256(base), Archives.sha256(top))));
        as(t).get("/images/one:1/json").then().statusCode(200).body("Id", equalTo(Archives.sha256(one)));

        // a link out of the archive, or to a member that is not there, names nothing: refused, nothing kept
        Map<String, String> refusals = Map.of(
                "../../aaa/layer.tar", "invalid archive: bbb/layer.tar links outside the archive",
                "../zzz/layer.tar", "invalid archive: zzz/layer.tar is missing",
                "layer.tar", "invalid archive: too many links from bbb/layer.tar");
        for (var refusal : refusals.entrySet()) {
            Map<String, Object> broken = new LinkedHashMap<>(archive);
            broken.put("bbb/layer.tar", new Link(refusal.getKey(), false));
            String other = tenant();
            as(other).body(Archives.tar(broken)).post("/images/load").then().statusCode(400)
                    .body("message", equalTo(refusal.getValue()));
            as(other).get("/images/json").then().body("$", hasSize(0));
        }
    }

    @Test
    void aDocker25ArchiveIsReadThroughItsManifestJsonIntoTheOciBlobs() throws Exception {
        // Docker 25+ writes an OCI layout and a manifest.json whose Config and Layers point into blobs/sha256
        byte[] layer = Archives.rootfs("from a newer docker\n");
        byte[] config = config("newer", Archives.sha256(layer));
        byte[] manifest = utf8("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\""
                + Archives.sha256(config) + "\",\"size\":" + config.length + "},\"layers\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"" + Archives.sha256(layer) + "\",\"size\":"
                + layer.length + "}]}");
        Map<String, Object> archive = new LinkedHashMap<>();
        archive.put("blobs/sha256/" + Archives.sha256(layer).substring(7), layer);
        archive.put("blobs/sha256/" + Archives.sha256(config).substring(7), config);
        archive.put("blobs/sha256/" + Archives.sha256(manifest).substring(7), manifest);
        archive.put("index.json", utf8("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
                + "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + Archives.sha256(manifest)
                + "\",\"size\":" + manifest.length + ",\"annotations\":{\"io.containerd.image.name\":"
                + "\"docker.io/library/newer:25\",\"org.opencontainers.image.ref.name\":\"25\"}}]}"));
        archive.put("manifest.json", utf8("[{\"Config\":\"blobs/sha256/" + Archives.sha256(config).substring(7)
                + "\",\"RepoTags\":[\"newer:25\"],\"Layers\":[\"blobs/sha256/" + Archives.sha256(layer).substring(7)
                + "\"]}]"));
        archive.put("oci-layout", utf8("{\"imageLayoutVersion\":\"1.0.0\"}"));
        archive.put("repositories", utf8("{\"newer\":{\"25\":\"" + Archives.sha256(layer).substring(7) + "\"}}"));
        String t = tenant();
        as(t).contentType("application/x-tar").body(Archives.tar(archive)).post("/images/load").then().statusCode(200)
                .body(equalTo("{\"stream\":\"Loaded image: newer:25\\n\"}\r\n"));
        as(t).get("/images/newer:25/json").then().statusCode(200).body("Id", equalTo(Archives.sha256(config)))
                .body("Config.Cmd", equalTo(List.of("newer")));
    }

    @Test
    void sizesCountSymbolicLinksByTheirTargetLikeDockerd() throws Exception {
        // dockerd sums the lstat sizes of a layer's files: /bin/sh and /bin/cat -> busybox add 7 bytes each
        byte[] rootfs = Archives.rootfs("12345\n");
        String t = tenant();
        as(t).contentType("text/plain").body(rootfs).queryParam("fromSrc", "-").queryParam("repo", "sized:1")
                .post("/images/create").then().statusCode(200);
        long expected = Files.size(Path.of("/bin/busybox")) + 6 + 2 * "busybox".length();
        as(t).get("/images/sized:1/json").then().statusCode(200).body("Size", equalTo((int) expected));
        as(t).get("/images/sized:1/history").then().statusCode(200).body("[0].Size", equalTo((int) expected));
    }
}
