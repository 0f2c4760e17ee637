package dev.berth.image.projection;

import dev.berth.events.EventEnvelope;
import dev.berth.image.projection.ImageUsers.Change;
import dev.berth.image.projection.ImageUsers.Kind;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which container events change {@code image_user}, read from the published payloads alone. */
class ImageUsersTest {

    private static final String ID = "a".repeat(64);
    private static final String IMAGE = "sha256:" + "b".repeat(64);

    private static EventEnvelope event(String type, String tenant, String data) {
        return new EventEnvelope("e1", "/container-service", "dev.berth.container." + type + ".v1",
                "acme/containers", Instant.EPOCH, tenant, 1, null, null, data);
    }

    private static Change change(String type, String extra) {
        return ImageUsers.change(event(type, "acme", "{\"containerId\":\"" + ID + "\",\"name\":\"web\","
                + "\"image\":\"x:1\",\"labels\":{\"a\":\"1\"}" + extra + "}"));
    }

    @Test
    void createdRecordsTheResolvedImageIdNotTheNameTheClientWrote() {
        assertThat(change("created", ",\"spec\":{\"image\":\"x:1\",\"imageId\":\"" + IMAGE + "\"}"))
                .isEqualTo(new Change(Kind.CREATED, ID, IMAGE));
        assertThat(change("created", ",\"spec\":{\"image\":\"x:1\"}")).isEqualTo(new Change(Kind.CREATED, ID, null));
    }

    @Test
    void runningFollowsDockersIsRunning() {
        assertThat(change("started", ",\"pid\":7").kind()).isEqualTo(Kind.RUNNING);
        assertThat(change("restarted-by-policy", ",\"restartCount\":1").kind()).isEqualTo(Kind.RUNNING);
        assertThat(change("restarted", "").kind()).isEqualTo(Kind.RUNNING);
        assertThat(change("stopped", "").kind()).isEqualTo(Kind.NOT_RUNNING);
        assertThat(change("died", ",\"exitCode\":0,\"willRestart\":false").kind()).isEqualTo(Kind.NOT_RUNNING);
        // a container its policy restarts counts as running in Docker; so do paused ones
        assertThat(change("died", ",\"exitCode\":1,\"willRestart\":true")).isNull();
        assertThat(change("paused", "")).isNull();
        assertThat(change("unpaused", "")).isNull();
        assertThat(change("killed", ",\"signal\":9")).isNull();
        assertThat(change("start-failed", ",\"exitCode\":127")).isNull();
        assertThat(change("renamed", ",\"oldName\":\"a\",\"newName\":\"b\"")).isNull();
        assertThat(change("removed", ",\"autoRemoved\":true")).isEqualTo(new Change(Kind.REMOVED, ID, null));
    }

    @Test
    void aRelevantEventWithoutAContainerOrNotJsonIsRefused() {
        assertThatThrownBy(() -> ImageUsers.change(event("removed", "acme", "{\"name\":\"web\"}")))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("event e1 (dev.berth.container.removed.v1)"
                        + " has no containerId");
        assertThatThrownBy(() -> ImageUsers.change(event("started", "acme", "not json")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("event e1"
                        + " (dev.berth.container.started.v1) is not JSON");
    }

    @Test
    void theTenantIsTheCloudEventsExtensionElseTheAggregateIdsPrefix() {
        assertThat(ImageUsers.tenant(event("stopped", "acme", "{}"))).isEqualTo("acme");
        assertThat(ImageUsers.tenant(event("stopped", null, "{}"))).isEqualTo("acme");
    }
}
