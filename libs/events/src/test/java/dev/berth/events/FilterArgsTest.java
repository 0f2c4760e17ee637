package dev.berth.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class FilterArgsTest {

    @Test
    void readsTheMapFormTheCliSendsKeepingOnlyTrueValues() {
        assertThat(FilterArgs.parse("{\"label\":{\"a=b\":true,\"c\":false},\"name\":{\"web\":true}}"))
                .containsOnlyKeys("label", "name")
                .containsEntry("label", java.util.Set.of("a=b"))
                .containsEntry("name", java.util.Set.of("web"));
    }

    @Test
    void readsTheListFormOfComposeAndKeepsTheOrder() {
        assertThat(FilterArgs.parse("{\"status\":[\"exited\",\"created\"],\"label\":[\"x\"]}").keySet())
                .containsExactly("status", "label");
        assertThat(FilterArgs.parse("{\"status\":[\"exited\",\"created\"]}").get("status"))
                .containsExactly("exited", "created");
    }

    @Test
    void blankIsNoFilter() {
        assertThat(FilterArgs.parse(null)).isEmpty();
        assertThat(FilterArgs.parse("  ")).isEmpty();
    }

    @Test
    void somethingElseIsMalformedWithTheRawText() {
        for (String raw : new String[]{"{", "[1]", "{\"label\":\"a\"}", "3"}) {
            assertThatThrownBy(() -> FilterArgs.parse(raw)).isInstanceOf(FilterArgs.Malformed.class)
                    .hasMessage("invalid filters: " + raw);
        }
    }
}
