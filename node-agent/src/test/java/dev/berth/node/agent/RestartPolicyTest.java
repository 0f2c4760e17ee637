package dev.berth.node.agent;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RestartPolicyTest {
    @Test
    void dockersDecisions() {
        assertThat(RestartPolicy.shouldRestart("no", 0, 0, 1, false)).isFalse();
        assertThat(RestartPolicy.shouldRestart("always", 0, 7, 0, false)).isTrue();
        assertThat(RestartPolicy.shouldRestart("always", 0, 0, 1, true)).as("stopped by a command").isFalse();
        assertThat(RestartPolicy.shouldRestart("unless-stopped", 0, 0, 0, false)).isTrue();
        assertThat(RestartPolicy.shouldRestart("on-failure", 0, 100, 1, false)).as("no limit").isTrue();
        assertThat(RestartPolicy.shouldRestart("on-failure", 2, 1, 3, false)).isTrue();
        assertThat(RestartPolicy.shouldRestart("on-failure", 2, 2, 3, false)).isFalse();
        assertThat(RestartPolicy.shouldRestart("on-failure", 2, 0, 0, false)).as("success").isFalse();
    }

    @Test
    void backOffDoublesFrom100msUpToAMinuteAndStartsOverAfterTenSecondsOfRunning() {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        Duration d = RestartPolicy.nextDelay(null, t, t.plusMillis(5));
        assertThat(d).isEqualTo(Duration.ofMillis(100));
        d = RestartPolicy.nextDelay(d, t, t.plusMillis(5));
        assertThat(d).isEqualTo(Duration.ofMillis(200));
        for (int i = 0; i < 20; i++) {
            d = RestartPolicy.nextDelay(d, t, t.plusMillis(5));
        }
        assertThat(d).isEqualTo(Duration.ofMinutes(1));
        assertThat(RestartPolicy.nextDelay(d, t, t.plusSeconds(10))).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void invalidPoliciesAreRefusedAsDockerDoes() {
        assertThatThrownBy(() -> RestartPolicy.validate("sometimes", 0)).hasMessageContaining("invalid restart policy");
        assertThatThrownBy(() -> RestartPolicy.validate("always", 3)).hasMessageContaining("maximum retry count");
        RestartPolicy.validate("on-failure", 3);
        RestartPolicy.validate("", 0);
    }
}
