package dev.berth.engineapi;

import dev.berth.events.DomainException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GoBoolTest {

    @ParameterizedTest
    @ValueSource(strings = {"1", "t", "T", "TRUE", "true", "True"})
    void readsGoTrueSpellings(String value) {
        assertThat(GoBool.parse("force", value, false)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "f", "F", "FALSE", "false", "False"})
    void readsGoFalseSpellings(String value) {
        assertThat(GoBool.parse("force", value, true)).isFalse();
    }

    @Test
    void absentOrEmptyMeansTheFallback() {
        assertThat(GoBool.parse("all", null, true)).isTrue();
        assertThat(GoBool.parse("all", "", true)).isTrue();
        assertThat(GoBool.parse("all", null, false)).isFalse();
        assertThat(GoBool.parse("all", "", false)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"yes", "no", "tRUE", "fAlse", "2", " true", "true ", "on"})
    void refusesWhatParseBoolRefusesWithDockersMessage(String value) {
        assertThatThrownBy(() -> GoBool.parse("force", value, false))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(400))
                .hasMessage("invalid value for force: strconv.ParseBool: parsing \"" + value + "\": invalid syntax");
    }
}
