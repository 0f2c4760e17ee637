package dev.berth.events;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CloudEventHeadersTest {

    private final EventEnvelope envelope = new EventEnvelope(
            "6f1c2a9e-0000-4000-8000-000000000001", "/volume-service", "dev.berth.volume.created.v1", "vol-1",
            Instant.parse("2026-03-04T05:06:07.890Z"), "acme", 4,
            UUID.fromString("6f1c2a9e-0000-4000-8000-000000000002"), null, "{\"name\":\"data\"}");

    private static String text(Map<String, byte[]> h, String name) {
        return new String(h.get(name), StandardCharsets.UTF_8);
    }

    @Test
    void writesBinaryModeHeaders() {
        Map<String, byte[]> h = CloudEventHeaders.toHeaders(envelope);

        assertThat(text(h, "ce_specversion")).isEqualTo("1.0");
        assertThat(text(h, "ce_id")).isEqualTo("6f1c2a9e-0000-4000-8000-000000000001");
        assertThat(text(h, "ce_source")).isEqualTo("/volume-service");
        assertThat(text(h, "ce_type")).isEqualTo("dev.berth.volume.created.v1");
        assertThat(text(h, "ce_subject")).isEqualTo("vol-1");
        assertThat(text(h, "ce_time")).isEqualTo("2026-03-04T05:06:07.890Z");
        assertThat(text(h, "ce_tenant")).isEqualTo("acme");
        assertThat(text(h, "ce_sequence")).isEqualTo("4");
        assertThat(text(h, "ce_correlationid")).isEqualTo("6f1c2a9e-0000-4000-8000-000000000002");
        assertThat(h).doesNotContainKey("ce_causationid");
        assertThat(text(h, "content-type")).isEqualTo("application/json");
        assertThat(new String(CloudEventHeaders.toValue(envelope), StandardCharsets.UTF_8))
                .isEqualTo("{\"name\":\"data\"}");
    }

    @Test
    void readsBackWhatItWrites() {
        EventEnvelope back = CloudEventHeaders.fromRecord(CloudEventHeaders.toHeaders(envelope), "vol-1",
                CloudEventHeaders.toValue(envelope));
        assertThat(back).isEqualTo(envelope);
        assertThat(back.aggregateType()).isEqualTo("volume");
    }

    @Test
    void takesTheKeyAsSubjectWhenTheHeaderIsMissing() {
        Map<String, byte[]> h = new HashMap<>(CloudEventHeaders.toHeaders(envelope));
        h.remove("ce_subject");
        assertThat(CloudEventHeaders.fromRecord(h, "vol-9", "{}".getBytes()).subject()).isEqualTo("vol-9");
    }

    @Test
    void refusesRecordsThatAreNotCloudEvents() {
        Map<String, byte[]> h = new HashMap<>(CloudEventHeaders.toHeaders(envelope));
        h.remove("ce_type");
        assertThatThrownBy(() -> CloudEventHeaders.fromRecord(h, "k", "{}".getBytes()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ce_type");
        assertThatThrownBy(() -> CloudEventHeaders.fromRecord(Map.of(), "k", "{}".getBytes()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CloudEvents 1.0");
        Map<String, byte[]> badTime = new HashMap<>(CloudEventHeaders.toHeaders(envelope));
        badTime.put("ce_time", "yesterday".getBytes());
        assertThatThrownBy(() -> CloudEventHeaders.fromRecord(badTime, "k", "{}".getBytes()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("malformed");
    }

    @Test
    void aggregateTypeComesFromTheTypeString() {
        assertThat(EventEnvelope.aggregateTypeOf("dev.berth.container.started.v1")).isEqualTo("container");
        assertThatThrownBy(() -> EventEnvelope.aggregateTypeOf("com.example.thing"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
