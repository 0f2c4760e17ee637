package dev.berth.container.domain;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StatusTest {

    private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");

    @Test
    void humanDurationUsesGoUnitsWording() {
        assertThat(Status.humanDuration(Duration.ofMillis(999))).isEqualTo("Less than a second");
        assertThat(Status.humanDuration(Duration.ofSeconds(1))).isEqualTo("1 second");
        assertThat(Status.humanDuration(Duration.ofSeconds(59))).isEqualTo("59 seconds");
        assertThat(Status.humanDuration(Duration.ofSeconds(60))).isEqualTo("About a minute");
        assertThat(Status.humanDuration(Duration.ofSeconds(119))).isEqualTo("About a minute");
        assertThat(Status.humanDuration(Duration.ofMinutes(2))).isEqualTo("2 minutes");
        assertThat(Status.humanDuration(Duration.ofMinutes(59))).isEqualTo("59 minutes");
        assertThat(Status.humanDuration(Duration.ofMinutes(60))).isEqualTo("About an hour");
        assertThat(Status.humanDuration(Duration.ofMinutes(89))).isEqualTo("About an hour");
        assertThat(Status.humanDuration(Duration.ofMinutes(90))).isEqualTo("2 hours");
        assertThat(Status.humanDuration(Duration.ofHours(47))).isEqualTo("47 hours");
        assertThat(Status.humanDuration(Duration.ofHours(48))).isEqualTo("2 days");
        assertThat(Status.humanDuration(Duration.ofDays(14))).isEqualTo("2 weeks");
        assertThat(Status.humanDuration(Duration.ofDays(60))).isEqualTo("2 months");
        assertThat(Status.humanDuration(Duration.ofDays(730))).isEqualTo("2 years");
    }

    @Test
    void statusLinesFollowTheState() {
        String started = Status.rfc3339(NOW.minusSeconds(3));
        String finished = Status.rfc3339(NOW.minusSeconds(5));
        assertThat(Status.of("created", 0, Status.NEVER, Status.NEVER, NOW)).isEqualTo("Created");
        // a failed start leaves it created, StartedAt still zero
        assertThat(Status.of("created", 127, Status.NEVER, Status.NEVER, NOW)).isEqualTo("Created");
        assertThat(Status.of("running", 0, started, Status.NEVER, NOW)).isEqualTo("Up 3 seconds");
        assertThat(Status.of("paused", 0, Status.rfc3339(NOW.minusSeconds(150)), Status.NEVER, NOW))
                .isEqualTo("Up 2 minutes (Paused)");
        assertThat(Status.of("exited", 137, started, finished, NOW)).isEqualTo("Exited (137) 5 seconds ago");
        assertThat(Status.of("restarting", 1, started, Status.rfc3339(NOW.minusSeconds(2)), NOW))
                .isEqualTo("Restarting (1) 2 seconds ago");
    }

    @Test
    void timestampsAreRfc3339NanoWithoutTrailingZeros() {
        assertThat(Status.rfc3339(Instant.parse("2026-11-30T00:12:55.312130942Z"))).isEqualTo("2026-11-30T00:12:55.312130942Z");
        assertThat(Status.rfc3339(Instant.parse("2026-11-30T00:12:55.500Z"))).isEqualTo("2026-11-30T00:12:55.5Z");
        assertThat(Status.rfc3339(Instant.parse("2026-11-30T00:12:55Z"))).isEqualTo("2026-11-30T00:12:55Z");
        assertThat(Status.rfc3339(null)).isEqualTo(Status.NEVER);
        assertThat(Status.parse(Status.NEVER)).isNull();
    }

    @Test
    void signalsAreCheckedAsDockerDoes() {
        Signals.validate("KILL");
        Signals.validate("SIGTERM");
        Signals.validate("hup");
        Signals.validate("9");
        Signals.validate("RTMIN+3");
        Signals.validate(null);
        assertThatThrownBy(() -> Signals.validate("NOPE")).hasMessage("Invalid signal: NOPE");
        assertThatThrownBy(() -> Signals.validate("65")).hasMessage("Invalid signal: 65");
        assertThat(Signals.isKill(null)).isTrue();
        assertThat(Signals.isKill("SIGKILL")).isTrue();
        assertThat(Signals.isKill("TERM")).isFalse();
    }
}
