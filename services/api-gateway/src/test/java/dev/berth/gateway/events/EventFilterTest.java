package dev.berth.gateway.events;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** dockerd's event filter rules. */
class EventFilterTest {

    private static final Instant T = Instant.parse("2026-01-01T00:00:00Z");

    private static DockerEvent container(String action, String id, Map<String, String> attributes) {
        return new DockerEvent("container", action, id, new TreeMap<>(attributes), T);
    }

    private final DockerEvent webStart = container("start", "2a14c1aaaa", Map.of("name", "web", "image", "busybox:1.36", "tr", "7"));
    private final DockerEvent netCreate = new DockerEvent("network", "create", "f7d0bbbb",
            new TreeMap<>(Map.of("name", "webnet", "type", "bridge")), T);
    private final DockerEvent imageTag = new DockerEvent("image", "tag", "sha256:abcd",
            new TreeMap<>(Map.of("name", "registry:5000/app:v1")), T);

    @Test
    void typeEventAndLabelMustAllMatch() {
        EventFilter f = EventFilter.parse("{\"type\":{\"container\":true},\"event\":{\"start\":true},\"label\":{\"tr=7\":true}}");
        assertThat(f.includes(webStart)).isTrue();
        assertThat(f.includes(container("die", "2a14c1aaaa", Map.of("name", "web", "tr", "7")))).isFalse();
        assertThat(f.includes(container("start", "2a14c1aaaa", Map.of("name", "web", "tr", "8")))).isFalse();
        assertThat(f.includes(netCreate)).isFalse();
        assertThat(EventFilter.parse("{\"label\":[\"tr\"]}").includes(webStart)).as("a key alone").isTrue();
        assertThat(EventFilter.parse("{\"label\":[\"tr=7\",\"other\"]}").includes(webStart)).as("every label").isFalse();
    }

    @Test
    void objectNamesArePrefixesOfIdOrNameWhateverTheEventsType() {
        EventFilter byName = EventFilter.parse("{\"container\":[\"web\"]}");
        assertThat(byName.includes(webStart)).isTrue();
        assertThat(byName.includes(netCreate)).as("dockerd's quirk: the network webnet matches container=web").isTrue();
        assertThat(EventFilter.parse("{\"container\":[\"2a14\"]}").includes(webStart)).isTrue();
        assertThat(EventFilter.parse("{\"container\":[\"db\"]}").includes(webStart)).isFalse();
        assertThat(EventFilter.parse("{\"network\":[\"webnet\"]}").includes(netCreate)).isTrue();
    }

    @Test
    void imagesMatchExactlyWithOrWithoutTheirTag() {
        assertThat(EventFilter.parse("{\"image\":[\"busybox\"]}").includes(webStart)).isTrue();
        assertThat(EventFilter.parse("{\"image\":[\"busybox:1.36\"]}").includes(webStart)).isTrue();
        assertThat(EventFilter.parse("{\"image\":[\"busy\"]}").includes(webStart)).isFalse();
        assertThat(EventFilter.parse("{\"image\":[\"registry:5000/app\"]}").includes(imageTag)).isTrue();
        assertThat(EventFilter.parse("{\"image\":[\"sha256:abcd\"]}").includes(imageTag)).isTrue();
        assertThat(EventFilter.parse("{\"image\":[\"sha256\"]}").includes(imageTag)).isFalse();
    }

    @Test
    void execEventsArePrefixMatchedAsDockerDoes() {
        DockerEvent exec = container("exec_start: sh -c true", "2a14c1aaaa", Map.of("name", "web"));
        assertThat(EventFilter.parse("{\"event\":[\"exec_start\"]}").includes(exec)).isTrue();
        assertThat(EventFilter.parse("{\"event\":[\"start\"]}").includes(exec)).isFalse();
    }

    @Test
    void noFilterTakesEverythingAndFalseValuesDoNotCount() {
        assertThat(EventFilter.parse(null).includes(netCreate)).isTrue();
        assertThat(EventFilter.parse("").includes(netCreate)).isTrue();
        assertThat(EventFilter.parse("{\"type\":{\"container\":false}}").includes(netCreate)).isTrue();
        assertThat(EventFilter.parse("{\"scope\":[\"swarm\"]}").includes(netCreate)).isFalse();
    }

    @Test
    void unknownKeysAndMalformedJsonAreRefused() {
        assertThatThrownBy(() -> EventFilter.parse("{\"colour\":[\"red\"]}")).hasMessage("invalid filter 'colour'");
        assertThatThrownBy(() -> EventFilter.parse("{\"type\":\"container\"}")).isInstanceOf(EventFilter.Invalid.class);
        assertThatThrownBy(() -> EventFilter.parse("[1]")).isInstanceOf(EventFilter.Invalid.class);
        assertThatThrownBy(() -> EventFilter.parse("{nope")).isInstanceOf(EventFilter.Invalid.class);
    }
}
