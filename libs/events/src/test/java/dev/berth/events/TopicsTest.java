package dev.berth.events;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TopicsTest {
    @Test
    void mapsEveryAggregateTypeToItsTopicAndBack() {
        assertThat(Topics.forAggregateType("image")).isEqualTo("berth.images.events");
        assertThat(Topics.forAggregateType("container")).isEqualTo("berth.containers.events");
        assertThat(Topics.forAggregateType("network")).isEqualTo("berth.networks.events");
        assertThat(Topics.forAggregateType("volume")).isEqualTo("berth.volumes.events");
        assertThat(Topics.forAggregateType("node")).isEqualTo("berth.nodes.events");
        assertThat(Topics.aggregateTypeOf("berth.volumes.events")).contains("volume");
        assertThat(Topics.aggregateTypeOf(Topics.NODE_COMMANDS)).isEmpty();
    }

    @Test
    void refusesUnknownAggregateTypes() {
        assertThatThrownBy(() -> Topics.forAggregateType("ship"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ship");
    }
}
