package dev.berth.gateway.events;

import dev.berth.events.EventEnvelope;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Berth's event types as Docker's actions (the table of the issue-4 contract). */
class EventTranslationTest {

    private static final Instant T = Instant.parse("2026-11-30T01:02:03.456789012Z");
    private static final String ID = "2a14c1".repeat(10) + "abcd";

    private static List<DockerEvent> translate(String type, String data) {
        return EventTranslation.translate(new EventEnvelope("e1", "/container-service", type, "t/containers", T, "t", 1,
                null, null, data));
    }

    private static String common(String extra) {
        return "{\"containerId\":\"" + ID + "\",\"name\":\"web\",\"image\":\"busybox\",\"labels\":{\"tr\":\"7\",\"name\":\"label-loses\"}"
                + extra + "}";
    }

    private static List<String> actions(List<DockerEvent> events) {
        return events.stream().map(DockerEvent::action).toList();
    }

    @Test
    void everyContainerTypeOfTheContractHasItsAction() {
        assertThat(actions(translate("dev.berth.container.started.v1", common(",\"pid\":4")))).containsExactly("start");
        assertThat(actions(translate("dev.berth.container.restarted-by-policy.v1", common(",\"restartCount\":2")))).containsExactly("start");
        assertThat(actions(translate("dev.berth.container.stopped.v1", common("")))).containsExactly("stop");
        assertThat(actions(translate("dev.berth.container.restarted.v1", common("")))).containsExactly("restart");
        assertThat(actions(translate("dev.berth.container.paused.v1", common("")))).containsExactly("pause");
        assertThat(actions(translate("dev.berth.container.unpaused.v1", common("")))).containsExactly("unpause");
        assertThat(actions(translate("dev.berth.container.removed.v1", common(",\"autoRemoved\":true")))).containsExactly("destroy");
        assertThat(translate("dev.berth.container.start-failed.v1", common(",\"exitCode\":127"))).as("no Docker event").isEmpty();
        assertThat(translate("dev.berth.container.started.v2", common(""))).as("an unknown version").isEmpty();
    }

    @Test
    void aDeathByOomIsReportedAsOomThenDieWithTheExitCode() {
        List<DockerEvent> events = translate("dev.berth.container.died.v1", common(",\"exitCode\":137,\"oomKilled\":true"));
        assertThat(actions(events)).containsExactly("oom", "die");
        assertThat(events.get(0).attributes()).doesNotContainKey("exitCode");
        assertThat(events.get(1).attributes()).containsEntry("exitCode", "137");
        assertThat(actions(translate("dev.berth.container.died.v1", common(",\"exitCode\":0,\"oomKilled\":false"))))
                .containsExactly("die");
    }

    @Test
    void attributesAreTheLabelsThenImageAndNameWhichWin() {
        DockerEvent e = translate("dev.berth.container.started.v1", common("")).get(0);
        assertThat(e.attributes()).containsExactly(
                java.util.Map.entry("image", "busybox"), java.util.Map.entry("name", "web"), java.util.Map.entry("tr", "7"));
        assertThat(e.toJson()).containsEntry("status", "start").containsEntry("id", ID).containsEntry("from", "busybox")
                .containsEntry("scope", "local").containsEntry("time", T.getEpochSecond())
                .containsEntry("timeNano", T.getEpochSecond() * 1_000_000_000L + 456789012);
    }

    @Test
    void createdReadsTheSpecRenamedGivesTheOldNameWithItsSlash() {
        DockerEvent created = translate("dev.berth.container.created.v1", "{\"containerId\":\"" + ID + "\",\"name\":\"web\","
                + "\"nodeId\":\"n1\",\"spec\":{\"image\":\"nginx:1\",\"labels\":{\"a\":\"b\"}}}").get(0);
        assertThat(created.action()).isEqualTo("create");
        assertThat(created.attributes()).containsEntry("image", "nginx:1").containsEntry("a", "b");
        DockerEvent renamed = translate("dev.berth.container.renamed.v1", "{\"containerId\":\"" + ID
                + "\",\"oldName\":\"old\",\"newName\":\"new\"}").get(0);
        assertThat(renamed.action()).isEqualTo("rename");
        assertThat(renamed.attributes()).containsEntry("name", "new").containsEntry("oldName", "/old");
    }

    @Test
    void killNamesTheSignalByNumber() {
        assertThat(translate("dev.berth.container.killed.v1", common(",\"signal\":\"9\"")).get(0).attributes())
                .containsEntry("signal", "9");
        assertThat(translate("dev.berth.container.killed.v1", common(",\"signal\":\"SIGTERM\"")).get(0).attributes())
                .containsEntry("signal", "15");
        assertThat(translate("dev.berth.container.killed.v1", common(",\"signal\":\"hup\"")).get(0).attributes())
                .containsEntry("signal", "1");
        assertThat(translate("dev.berth.container.killed.v1", common(",\"signal\":15")).get(0).attributes())
                .containsEntry("signal", "15");
    }

    @Test
    void imagesNetworksAndVolumes() {
        DockerEvent tag = EventTranslation.translate(new EventEnvelope("e2", "/image-service", "dev.berth.image.tagged.v1",
                "t/images", T, "t", 1, null, null, "{\"imageId\":\"sha256:ab\",\"reference\":\"busybox:latest\"}")).get(0);
        assertThat(tag.type()).isEqualTo("image");
        assertThat(tag.actorId()).isEqualTo("sha256:ab");
        assertThat(tag.attributes()).containsEntry("name", "busybox:latest");
        assertThat(tag.toJson()).containsEntry("status", "tag").doesNotContainKey("from");
        DockerEvent deleted = EventTranslation.translate(new EventEnvelope("e3", "/image-service", "dev.berth.image.deleted.v1",
                "t/images", T, "t", 1, null, null, "{\"imageId\":\"sha256:ab\"}")).get(0);
        assertThat(deleted.action()).isEqualTo("delete");
        DockerEvent pulled = EventTranslation.translate(new EventEnvelope("e4", "/image-service", "dev.berth.image.pulled.v1",
                "t/images", T, "t", 1, null, null, "{\"imageId\":\"sha256:ab\",\"repoTags\":[\"bb:1\"]}")).get(0);
        assertThat(pulled.action()).isEqualTo("pull");
        assertThat(EventTranslation.translate(new EventEnvelope("e5", "/image-service", "dev.berth.image.pushed.v1",
                "t/images", T, "t", 1, null, null, "{\"imageId\":\"sha256:ab\"}")))
                .as("an image arriving in Berth's registry has no Docker action").isEmpty();
        assertThat(deleted.attributes()).containsEntry("name", "sha256:ab");

        assertThat(EventTranslation.translate(new EventEnvelope("e4", "/network-service", "dev.berth.network.created.v1",
                "n", T, "t", 1, null, null, "{\"id\":\"n\",\"name\":\"bridge\",\"driver\":\"bridge\",\"predefined\":true}")))
                .as("a tenant's predefined networks appear without an event, as at dockerd's start").isEmpty();
        DockerEvent net = EventTranslation.translate(new EventEnvelope("e5", "/network-service", "dev.berth.network.removed.v1",
                "n", T, "t", 1, null, null, "{\"id\":\"n\",\"name\":\"trnet\"}")).get(0);
        assertThat(net.action()).isEqualTo("destroy");
        assertThat(net.toJson()).doesNotContainKey("status");

        DockerEvent vol = EventTranslation.translate(new EventEnvelope("e6", "/volume-service", "dev.berth.volume.created.v1",
                "t/v", T, "t", 1, null, null, "{\"name\":\"v\",\"driver\":\"local\"}")).get(0);
        assertThat(vol.type()).isEqualTo("volume");
        assertThat(vol.actorId()).isEqualTo("v");
        assertThat(vol.attributes()).containsEntry("driver", "local");
    }

    @Test
    void unreadablePayloadsGiveNothing() {
        assertThat(translate("dev.berth.container.started.v1", "not json")).isEmpty();
        assertThat(translate("dev.berth.container.started.v1", "[1]")).isEmpty();
        assertThat(translate("dev.berth.container.started.v1", "{\"name\":\"no id\"}")).isEmpty();
        assertThat(translate("dev.berth.node.container-started.v1", common(""))).isEmpty();
    }
}
