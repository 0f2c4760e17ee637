package dev.berth.gateway.events;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.ZoneId;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** since/until as dockerd reads them. */
class EventTimeTest {

    private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");
    private static final ZoneId PARIS = ZoneId.of("Europe/Paris");

    private static Instant parse(String v) {
        return EventTime.parse(v, NOW, PARIS);
    }

    @Test
    void unixSecondsWithAndWithoutFractionAsTheCliSendsThem() {
        assertThat(parse("1795997697")).isEqualTo(Instant.ofEpochSecond(1795997697));
        assertThat(parse("1795997697.5")).isEqualTo(Instant.ofEpochSecond(1795997697, 500_000_000));
        assertThat(parse("1795997697.000000042")).isEqualTo(Instant.ofEpochSecond(1795997697, 42));
        assertThat(parse("0")).isEqualTo(Instant.EPOCH);
    }

    @Test
    void goDurationsCountBackFromNow() {
        assertThat(parse("10m")).isEqualTo(NOW.minusSeconds(600));
        assertThat(parse("1h30m")).isEqualTo(NOW.minusSeconds(5400));
        assertThat(parse("1.5h")).isEqualTo(NOW.minusSeconds(5400));
        assertThat(parse("500ms")).isEqualTo(NOW.minusMillis(500));
        assertThat(parse("-5s")).as("a negative duration reaches into the future").isEqualTo(NOW.plusSeconds(5));
    }

    @Test
    void rfc3339WithAZoneAndLocalTimesInTheGatewaysZone() {
        assertThat(parse("2026-11-30T10:00:00Z")).isEqualTo(Instant.parse("2026-11-30T10:00:00Z"));
        assertThat(parse("2026-11-30T10:00:00.25+02:00")).isEqualTo(Instant.parse("2026-11-30T08:00:00.25Z"));
        assertThat(parse("2026-11-30T10:00:00")).isEqualTo(Instant.parse("2026-11-30T09:00:00Z"));
        assertThat(parse("2026-11-30T10:00")).isEqualTo(Instant.parse("2026-11-30T09:00:00Z"));
        assertThat(parse("2026-11-30")).isEqualTo(Instant.parse("2026-11-29T23:00:00Z"));
    }

    @Test
    void absentIsNullAndNonsenseIsRefusedWithDockersWords() {
        assertThat(parse(null)).isNull();
        assertThat(parse("")).isNull();
        for (String bad : new String[] {"yesterday", "10x", "2026-13-40T00:00:00Z", "12:00", "1h-5m"}) {
            assertThatThrownBy(() -> parse(bad)).as(bad).isInstanceOf(EventTime.Invalid.class)
                    .hasMessage("failed to parse value as time or duration: \"" + bad + "\"");
        }
    }
}
