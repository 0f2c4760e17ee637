package dev.berth.image.history;

import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

/** A tag's history and rollback through the API, over a real PostgreSQL and Kafka broker. */
@QuarkusTest
@QuarkusTestResource(value = BerthTestResource.class, restrictToAnnotatedClass = true)
class TagHistoryTest {

    private static String tenant() {
        return "t" + UUID.randomUUID().toString().substring(0, 8);
    }

    private static RequestSpecification as(String tenant) {
        return given().header("X-Berth-Tenant", tenant);
    }

    /** {@code docker import} of a one-file rootfs, tagged. */
    private static String importImage(String tenant, String text, String repo) throws IOException {
        String body = as(tenant).contentType("text/plain").body(tar(text)).queryParam("fromSrc", "-")
                .queryParam("repo", repo).post("/images/create").then().statusCode(200).extract().asString();
        return body.substring(11, 82);
    }

    @Test
    void rollbackRestoresTheOldImageAndTheHistoryListsEveryMove() throws Exception {
        String t = tenant();
        String a = importImage(t, "A " + t, "app:v1");
        String b = importImage(t, "B " + t, "app:v1");
        as(t).get("/images/app:v1/json").then().statusCode(200).body("Id", equalTo(b));

        as(t).post("/_berth/tags/app:v1/rollback?to=" + a).then().statusCode(200)
                .body("reference", equalTo("app:v1")).body("imageId", equalTo(a)).body("previous", equalTo(b));
        as(t).get("/images/app:v1/json").then().statusCode(200).body("Id", equalTo(a));
        as(t).get("/images/" + b + "/json").then().statusCode(200).body("RepoTags", equalTo(List.of()));

        JsonPath h = as(t).get("/_berth/tags/app:v1/history").then().statusCode(200).extract().jsonPath();
        assertThat(h.getString("reference")).isEqualTo("app:v1");
        assertThat(h.getString("current")).isEqualTo(a);
        // newest first: rollback (B untagged, A tagged), move to B (A untagged, B tagged), first import of A
        assertThat(h.getList("moves.action")).containsExactly("tagged", "untagged", "tagged", "untagged", "tagged");
        assertThat(h.getList("moves.imageId")).containsExactly(a, b, b, a, a);
        assertThat(h.getList("moves.eventType")).containsExactly("dev.berth.image.tagged.v1",
                "dev.berth.image.untagged.v1", "dev.berth.image.imported.v1", "dev.berth.image.untagged.v1",
                "dev.berth.image.imported.v1");
        List<Long> positions = h.getList("moves.position", Long.class);
        assertThat(positions).isSortedAccordingTo((x, y) -> Long.compare(y, x));
        assertThat(h.getList("moves.time", String.class)).allSatisfy(s -> assertThat(s).matches("\\d{4}-.*Z"));

        // the same name in Docker's other spellings, and by a unique id prefix; rolling to where it is changes nothing
        as(t).get("/_berth/tags/docker.io/library/app:v1/history").then().statusCode(200)
                .body("moves.size()", equalTo(5));
        as(t).post("/_berth/tags/app:v1/rollback?to=" + b.substring(7, 19)).then().statusCode(200)
                .body("imageId", equalTo(b)).body("previous", equalTo(a));
        as(t).post("/_berth/tags/app:v1/rollback?to=" + b).then().statusCode(200).body("previous", equalTo(b));
        as(t).get("/_berth/tags/app:v1/history").then().statusCode(200).body("moves.size()", equalTo(7));

        // history is per tenant
        as(tenant()).get("/_berth/tags/app:v1/history").then().statusCode(404);
    }

    @Test
    void unknownTagsTargetsAndDeletedImagesAreRefusedClearly() throws Exception {
        String t = tenant();
        String a = importImage(t, "A " + t, "web:1");
        String b = importImage(t, "B " + t, "web:1");
        String c = importImage(t, "C " + t, "other:1");

        as(t).get("/_berth/tags/never:1/history").then().statusCode(404)
                .body("message", equalTo("No history for tag never:1: it never named an image"));
        as(t).post("/_berth/tags/never:1/rollback?to=" + a).then().statusCode(404);
        as(t).post("/_berth/tags/web:1/rollback").then().statusCode(400)
                .body("message", startsWith("to is required"));
        as(t).post("/_berth/tags/web:1/rollback?to=" + c).then().statusCode(404)
                .body("message", equalTo("web:1 never named " + c + ": GET its history for the images it named"));
        as(t).post("/_berth/tags/Web:1/rollback?to=" + a).then().statusCode(400);

        // A is untagged since B took web:1; once deleted, there is nothing to roll back to
        as(t).delete("/images/" + a).then().statusCode(200);
        as(t).post("/_berth/tags/web:1/rollback?to=" + a).then().statusCode(409)
                .body("message", equalTo("cannot roll back web:1 to image " + a.substring(7, 19)
                        + ": the image has been deleted since the tag named it"));
        as(t).get("/images/web:1/json").then().statusCode(200).body("Id", equalTo(b));
    }

    @Test
    void replayRebuildsTheSameHistory() throws Exception {
        String t = tenant();
        String a = importImage(t, "A " + t, "rp:1");
        importImage(t, "B " + t, "rp:1");
        as(t).post("/_berth/tags/rp:1/rollback?to=" + a).then().statusCode(200);
        String before = as(t).get("/_berth/tags/rp:1/history").then().statusCode(200).extract().asString();
        given().post("/_berth/replay").then().statusCode(200);
        assertThat(as(t).get("/_berth/tags/rp:1/history").then().statusCode(200).extract().asString())
                .isEqualTo(before);
    }

    private static byte[] tar(String text) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            byte[] content = text.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry f = new TarArchiveEntry("hello.txt");
            f.setSize(content.length);
            f.setMode(0100644);
            tar.putArchiveEntry(f);
            tar.write(content);
            tar.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }
}
