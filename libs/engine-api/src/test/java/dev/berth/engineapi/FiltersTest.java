package dev.berth.engineapi;

import dev.berth.events.DomainException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FiltersTest {

    private static final Set<String> ACCEPTED = Set.of("name", "label", "label!", "dangling", "driver", "type");

    @Test
    void mapFormAsTheDockerCliSendsIt() {
        Filters f = Filters.parse("{\"label\":{\"a=b\":true,\"c\":true},\"name\":{\"web\":true}}", ACCEPTED);

        assertThat(f.get("label")).containsExactly("a=b", "c");
        assertThat(f.get("name")).containsExactly("web");
    }

    @Test
    void listFormAsComposeV1AndTestcontainersSendIt() {
        Filters f = Filters.parse("{\"label\":[\"a=b\",\"c\"],\"name\":[\"web\"]}", ACCEPTED);

        assertThat(f.get("label")).containsExactly("a=b", "c");
        assertThat(f.get("name")).containsExactly("web");
    }

    @Test
    void inTheMapFormOnlyTrueValuesCount() {
        Filters f = Filters.parse("{\"name\":{\"web\":false,\"db\":true}}", ACCEPTED);

        assertThat(f.get("name")).containsExactly("db");
    }

    @Test
    void noParameterIsNoFilterAndMatchesEverything() {
        for (String raw : new String[]{null, "", "  ", "{}"}) {
            Filters f = Filters.parse(raw, ACCEPTED);
            assertThat(f.contains("name")).isFalse();
            assertThat(f.get("name")).isEmpty();
            assertThat(f.match("name", "anything")).isTrue();
            assertThat(f.exactMatch("name", "anything")).isTrue();
            assertThat(f.matchLabels("label", Map.of())).isTrue();
            assertThat(f.matchNoLabel("label!", Map.of("a", "b"))).isTrue();
            assertThat(f.bool("dangling")).isNull();
        }
    }

    @Test
    void aKeyWithAnEmptyListIsPresentButSelectsNothing() {
        Filters f = Filters.parse("{\"name\":[]}", ACCEPTED);

        assertThat(f.contains("name")).isFalse();
        assertThat(f.match("name", "web")).isTrue();
    }

    @Test
    void anUnknownKeyIsRefusedWithDockersMessage() {
        assertThatThrownBy(() -> Filters.parse("{\"colour\":[\"red\"]}", ACCEPTED))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(400))
                .hasMessage("invalid filter 'colour'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"not json", "[\"label\"]", "\"label\"", "{\"label\":\"a=b\"}", "{\"label\":1}", "{\"label\":"})
    void malformedFiltersAreRefused(String raw) {
        assertThatThrownBy(() -> Filters.parse(raw, ACCEPTED))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(400))
                .hasMessage("invalid filters: " + raw);
    }

    @Test
    void matchIsEqualityOrARegularExpressionFoundAnywhere() {
        Filters f = Filters.parse("{\"name\":[\"^web-\\\\d+$\",\"db\"]}", ACCEPTED);

        assertThat(f.match("name", "web-12")).isTrue();
        assertThat(f.match("name", "my-db-1")).isTrue();
        assertThat(f.match("name", "web-x")).isFalse();
        assertThat(f.match("name", "cache")).isFalse();
    }

    @Test
    void aValueThatIsNotAValidExpressionStillMatchesByEquality() {
        Filters f = Filters.parse("{\"name\":[\"web[\"]}", ACCEPTED);

        assertThat(f.match("name", "web[")).isTrue();
        assertThat(f.match("name", "web")).isFalse();
    }

    @Test
    void exactMatchIgnoresExpressions() {
        Filters f = Filters.parse("{\"driver\":[\"loc.*\"]}", ACCEPTED);

        assertThat(f.exactMatch("driver", "local")).isFalse();
        assertThat(f.exactMatch("driver", "loc.*")).isTrue();
    }

    @Test
    void everyLabelFilterMustHoldByKeyOrByKeyAndValue() {
        Filters f = Filters.parse("{\"label\":[\"env=prod\",\"team\"]}", ACCEPTED);

        assertThat(f.matchLabels("label", Map.of("env", "prod", "team", "x"))).isTrue();
        assertThat(f.matchLabels("label", Map.of("env", "dev", "team", "x"))).isFalse();
        assertThat(f.matchLabels("label", Map.of("env", "prod"))).isFalse();
    }

    @Test
    void aLabelValueMayItselfContainEquals() {
        Filters f = Filters.parse("{\"label\":[\"cmd=a=b\"]}", ACCEPTED);

        assertThat(f.matchLabels("label", Map.of("cmd", "a=b"))).isTrue();
        assertThat(f.matchLabels("label", Map.of("cmd", "a"))).isFalse();
    }

    @Test
    void negatedLabelsMatchWhenNoneHolds() {
        Filters f = Filters.parse("{\"label!\":[\"env=prod\",\"legacy\"]}", ACCEPTED);

        assertThat(f.matchNoLabel("label!", Map.of("env", "dev"))).isTrue();
        assertThat(f.matchNoLabel("label!", Map.of("env", "prod"))).isFalse();
        assertThat(f.matchNoLabel("label!", Map.of("legacy", ""))).isFalse();
    }

    @Test
    void aBooleanFilterIsReadAsGoReadsIt() {
        assertThat(Filters.parse("{\"dangling\":[\"1\"]}", ACCEPTED).bool("dangling")).isTrue();
        assertThat(Filters.parse("{\"dangling\":{\"false\":true}}", ACCEPTED).bool("dangling")).isFalse();
    }

    @Test
    void aBooleanFilterWithAValueThatIsNotABooleanIsRefused() {
        Filters f = Filters.parse("{\"dangling\":[\"maybe\"]}", ACCEPTED);

        assertThatThrownBy(() -> f.bool("dangling"))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(400))
                .hasMessage("invalid filter 'dangling=maybe'");
    }

    @Test
    void aBooleanFilterWithSeveralValuesIsRefused() {
        Filters f = Filters.parse("{\"dangling\":[\"true\",\"false\"]}", ACCEPTED);

        assertThatThrownBy(() -> f.bool("dangling"))
                .isInstanceOf(DomainException.class)
                .hasMessage("invalid filter 'dangling': only one value is allowed");
    }

    @Test
    void theValuesCannotBeChangedByACaller() {
        Filters f = Filters.parse("{\"type\":[\"custom\"]}", ACCEPTED);

        assertThatThrownBy(() -> f.get("type").add("builtin")).isInstanceOf(UnsupportedOperationException.class);
        assertThat(f.get("type")).isEqualTo(Set.copyOf(List.of("custom")));
    }

    @Test
    void untilReadsUnixSecondsRfc3339AndGoDurationsAsDockerDoes() {
        assertThat(Filters.parse("{\"until\":[\"1700000000.5\"]}", List.of("until")).until())
                .isEqualTo(Instant.ofEpochMilli(1_700_000_000_500L));
        assertThat(Filters.parse("{\"until\":[\"2026-01-02T03:04:05Z\"]}", List.of("until")).until())
                .isEqualTo(Instant.parse("2026-01-02T03:04:05Z"));
        Instant before = Instant.now().minus(Duration.ofMinutes(90));
        Instant got = Filters.parse("{\"until\":[\"1h30m\"]}", List.of("until")).until();
        assertThat(got).isBetween(before.minusSeconds(5), before.plusSeconds(5));
        assertThat(Filters.parse("", List.of("until")).until()).isNull();
    }

    @Test
    void untilRefusesGarbageAndSeveralValues() {
        assertThatThrownBy(() -> Filters.parse("{\"until\":[\"yesterday\"]}", List.of("until")).until())
                .isInstanceOf(DomainException.class).hasMessage("invalid filter 'until=yesterday'");
        assertThatThrownBy(() -> Filters.parse("{\"until\":[\"1h\",\"2h\"]}", List.of("until")).until())
                .isInstanceOf(DomainException.class).hasMessage("more than one until filter specified");
    }
}
