package dev.berth.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

/**
 * Debian's skopeo copies images into Berth's registry API and out again: from a {@code docker-archive:} (what
 * {@code docker save} writes) and from an {@code oci:} layout, to both. Layers must come back byte for byte.
 */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class SkopeoCopyTest {

    @TempDir
    Path work;

    @Test
    void skopeoCopiesIntoBerthAndBackOut() throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        byte[] layer1 = TestImage.tar("etc/one.txt", "first layer " + id);
        byte[] layer2 = TestImage.tar("etc/two.txt", "second layer " + id + " ".repeat(5000));
        TestImage image = TestImage.of(List.of(layer1, layer2), TestImage.DOCKER_V2, false);
        Path archive = work.resolve("in.tar");
        Files.write(archive, dockerArchive(image, "skx/app:1"));
        String registry = "127.0.0.1:" + RestAssured.port;

        skopeo("copy", "--dest-tls-verify=false", "docker-archive:" + archive, "docker://" + registry + "/skx/app:1");

        // Berth has it as an image of the (default) tenant, named by its repository path, with skopeo's config
        given().get("/images/skx/app:1/json").then().statusCode(200)
                .body("Id", equalTo(image.configDigest()))
                .body("RootFS.Layers", equalTo(List.of(TestImage.sha256(layer1), TestImage.sha256(layer2))));
        byte[] pushedManifest = given().get("/v2/skx/app/manifests/1").then().statusCode(200).extract().asByteArray();
        JsonNode manifest = TestImage.JSON.readTree(pushedManifest);
        List<String> layerDigests = new ArrayList<>();
        manifest.path("layers").forEach(l -> layerDigests.add(l.path("digest").asText()));
        // skopeo compresses layers for a registry: Berth serves exactly the bytes it got
        for (int i = 0; i < layerDigests.size(); i++) {
            byte[] blob = given().get("/v2/skx/app/blobs/" + layerDigests.get(i)).then().statusCode(200).extract()
                    .asByteArray();
            assertThat(TestImage.sha256(blob)).isEqualTo(layerDigests.get(i));
            assertThat(gunzipIfNeeded(blob)).isEqualTo(i == 0 ? layer1 : layer2);
        }

        // out to an OCI layout: the manifest and blobs Berth serves, unchanged
        Path oci = work.resolve("oci");
        skopeo("copy", "--src-tls-verify=false", "docker://" + registry + "/skx/app:1", "oci:" + oci + ":1");
        for (int i = 0; i < layerDigests.size(); i++) {
            byte[] copied = Files.readAllBytes(oci.resolve("blobs/sha256/" + layerDigests.get(i).substring(7)));
            assertThat(TestImage.sha256(copied)).isEqualTo(layerDigests.get(i));
            assertThat(gunzipIfNeeded(copied)).isEqualTo(i == 0 ? layer1 : layer2);
        }

        // from the OCI layout into Berth again under another name, and out as a docker archive
        skopeo("copy", "--dest-tls-verify=false", "oci:" + oci + ":1", "docker://" + registry + "/skx/fromoci:2");
        given().get("/v2/skx/fromoci/tags/list").then().statusCode(200).body("tags", equalTo(List.of("2")));
        // the OCI layout holds an OCI manifest (skopeo converted it on the way out, config included): Berth keeps both
        // as pushed, with their media type
        byte[] ociManifest = given().get("/v2/skx/fromoci/manifests/2").then().statusCode(200)
                .contentType("application/vnd.oci.image.manifest.v1+json").extract().asByteArray();
        String ociConfig = TestImage.JSON.readTree(ociManifest).path("config").path("digest").asText();
        assertThat(given().get("/v2/skx/fromoci/blobs/" + ociConfig).then().statusCode(200).extract().asByteArray())
                .isEqualTo(Files.readAllBytes(oci.resolve("blobs/sha256/" + ociConfig.substring(7))));
        Path out = work.resolve("out.tar");
        skopeo("copy", "--src-tls-verify=false", "docker://" + registry + "/skx/fromoci:2", "docker-archive:" + out
                + ":skx/fromoci:2");
        Map<String, byte[]> files = read(Files.readAllBytes(out));
        JsonNode saved = TestImage.JSON.readTree(files.get("manifest.json")).get(0);
        assertThat(TestImage.sha256(files.get(saved.path("Config").asText()))).isEqualTo(ociConfig);
        assertThat(gunzipIfNeeded(files.get(saved.path("Layers").get(0).asText()))).isEqualTo(layer1);
        assertThat(gunzipIfNeeded(files.get(saved.path("Layers").get(1).asText()))).isEqualTo(layer2);
    }

    private void skopeo(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("skopeo", "--insecure-policy"));
        command.addAll(List.of(args));
        Path log = work.resolve("skopeo.log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                throw new AssertionError("skopeo " + String.join(" ", args) + " did not finish: "
                        + Files.readString(log));
            }
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor();
            }
        }
        assertThat(p.exitValue()).as("skopeo %s: %s", String.join(" ", args), Files.readString(log)).isZero();
    }

    /** {@code docker save}'s legacy layout for one image. */
    private static byte[] dockerArchive(TestImage image, String tag) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            ObjectNode m = TestImage.JSON.createObjectNode();
            String config = image.configDigest().substring(7) + ".json";
            m.put("Config", config);
            m.putArray("RepoTags").add(tag);
            var layers = m.putArray("Layers");
            for (byte[] l : image.tars()) {
                String name = TestImage.sha256(l).substring(7) + "/layer.tar";
                layers.add(name);
                entry(tar, name, l);
            }
            entry(tar, config, image.config());
            entry(tar, "manifest.json", TestImage.JSON.writeValueAsBytes(TestImage.JSON.createArrayNode().add(m)));
        }
        return bytes.toByteArray();
    }

    private static void entry(TarArchiveOutputStream tar, String name, byte[] content) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(content.length);
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    private static Map<String, byte[]> read(byte[] archive) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new ByteArrayInputStream(archive))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                if (e.isFile()) {
                    out.put(e.getName(), tar.readAllBytes());
                }
            }
        }
        return out;
    }

    private static byte[] gunzipIfNeeded(byte[] blob) throws IOException {
        if (blob.length < 2 || (blob[0] & 0xff) != 0x1f || (blob[1] & 0xff) != 0x8b) {
            return blob;
        }
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(blob))) {
            return in.readAllBytes();
        }
    }
}
