package dev.berth.events.node;

import dev.berth.events.EventCodec;
import dev.berth.events.EventEnvelope;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class NodeContractTest {
    @Test
    void everyCommandAndObservationHasAVersionedNodeType() {
        for (String type : EventCodec.of(NodeCommand.class).types().keySet()) {
            assertThat(type).matches("dev\\.berth\\.node\\.[a-z-]+-container-requested\\.v1");
            assertThat(EventEnvelope.aggregateTypeOf(type)).isEqualTo("node");
        }
        for (String type : EventCodec.of(NodeObservation.class).types().keySet()) {
            assertThat(type).matches("dev\\.berth\\.node\\.[a-z-]+\\.v1");
        }
        assertThat(EventCodec.of(NodeCommand.class).types()).hasSize(8);
        assertThat(EventCodec.of(NodeObservation.class).types()).hasSize(12);
    }

    @Test
    void aCreateCommandSurvivesTheWireWithNullsAndUnknownFields() {
        NodeContainerSpec spec = new NodeContainerSpec(new NodeContainerSpec.Image("library/busybox",
                List.of(new NodeContainerSpec.Layer("sha256:" + "a".repeat(64), "sha256:" + "b".repeat(64),
                        "application/vnd.oci.image.layer.v1.tar+gzip", 123))), null, List.of("sh"), List.of("A=1"),
                null, "", null, true, true, true, "web", Map.of("k", "v"),
                new NodeContainerSpec.Resources(1 << 20, -1, 500_000_000, 0, 0, 0, 0, null, null),
                new NodeContainerSpec.Network("bridge", List.of(new NodeContainerSpec.PortBinding(null, 0, 80, "tcp"))),
                List.of(new NodeContainerSpec.Mount("tmpfs", null, "/run", false, "size=1m")), null, List.of("NET_RAW"),
                false, true, false, true, List.of(new NodeContainerSpec.Ulimit("nofile", 1024, 2048)), "SIGINT", 3,
                new NodeContainerSpec.LogConfig(1 << 20, 3), new NodeContainerSpec.RestartPolicy("on-failure", 2), true);
        EventCodec<NodeCommand> codec = EventCodec.of(NodeCommand.class);
        NodeCommand c = new NodeCommand.CreateContainer("node-1", "abc", spec);
        assertThat(codec.decode(codec.typeOf(c), codec.encode(c))).isEqualTo(c);
        String extra = codec.encode(c).replaceFirst("\\{", "{\"future\":1,");
        assertThat(codec.decode(codec.typeOf(c), extra)).isEqualTo(c);
        NodeCommand.StopContainer stop = (NodeCommand.StopContainer) codec.decode(
                "dev.berth.node.stop-container-requested.v1", "{\"nodeId\":\"n\",\"containerId\":\"c\",\"timeoutSeconds\":null}");
        assertThat(stop.timeoutSeconds()).isNull();
    }

    @Test
    void observationsRoundTrip() {
        EventCodec<NodeObservation> codec = EventCodec.of(NodeObservation.class);
        NodeObservation o = new NodeObservation.ContainerStarted("n", "c", 42, Instant.parse("2026-01-01T00:00:00.123456789Z"),
                new NodeObservation.NetworkSettings("bridge", "10.0.0.2", 24, "10.0.0.1", "02:42:0a:00:00:02",
                        List.of(new NodeContainerSpec.PortBinding("0.0.0.0", 32768, 80, "tcp"))));
        assertThat(codec.typeOf(o)).isEqualTo("dev.berth.node.container-started.v1");
        assertThat(codec.decode(codec.typeOf(o), codec.encode(o))).isEqualTo(o);
    }
}
