package dev.berth.events;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventCodecTest {

    sealed interface ShipEvent permits ShipEvent.Docked, ShipEvent.Departed, ShipEvent.Cargo {
        @EventType("dev.berth.ship.docked.v1")
        record Docked(String name, int berth, Instant at, Map<String, String> labels) implements ShipEvent {
        }

        @EventType("dev.berth.ship.departed.v1")
        record Departed(String name, boolean empty, long tons) implements ShipEvent {
        }

        sealed interface Cargo extends ShipEvent permits Loaded {
        }

        @EventType("dev.berth.ship.loaded.v1")
        record Loaded(List<String> containers) implements Cargo {
        }
    }

    sealed interface Broken permits Broken.NoType {
        record NoType(String x) implements Broken {
        }
    }

    sealed interface Twice permits Twice.A, Twice.B {
        @EventType("dev.berth.twice.same.v1")
        record A() implements Twice {
        }

        @EventType("dev.berth.twice.same.v1")
        record B() implements Twice {
        }
    }

    private final EventCodec<ShipEvent> codec = EventCodec.of(ShipEvent.class);

    @Test
    void roundTripsEveryRecordIncludingNestedSealedFamilies() {
        var docked = new ShipEvent.Docked("web", 3, Instant.parse("2026-01-02T03:04:05.123Z"), Map.of("a", "b"));
        var loaded = new ShipEvent.Loaded(List.of("c1", "c2"));

        assertThat(codec.typeOf(docked)).isEqualTo("dev.berth.ship.docked.v1");
        assertThat(codec.typeOf(loaded)).isEqualTo("dev.berth.ship.loaded.v1");
        assertThat(codec.decode("dev.berth.ship.docked.v1", codec.encode(docked))).isEqualTo(docked);
        assertThat(codec.decode("dev.berth.ship.loaded.v1", codec.encode(loaded))).isEqualTo(loaded);
        assertThat(codec.types()).containsOnlyKeys("dev.berth.ship.docked.v1", "dev.berth.ship.departed.v1",
                "dev.berth.ship.loaded.v1");
    }

    @Test
    void writesTimesAsIsoStrings() {
        var docked = new ShipEvent.Docked("web", 3, Instant.parse("2026-01-02T03:04:05Z"), Map.of());
        assertThat(codec.encode(docked)).contains("\"at\":\"2026-01-02T03:04:05Z\"");
    }

    @Test
    void toleratesUnknownFieldsExplicitNullsAndMissingFields() {
        String json = "{\"name\":\"web\",\"empty\":null,\"future\":{\"x\":1},\"tons\":7}";
        assertThat(codec.decode("dev.berth.ship.departed.v1", json))
                .isEqualTo(new ShipEvent.Departed("web", false, 7));
        assertThat(codec.decode("dev.berth.ship.departed.v1", "{}"))
                .isEqualTo(new ShipEvent.Departed(null, false, 0));
    }

    @Test
    void refusesUnknownTypesAndBadJsonWithTheTypeInTheMessage() {
        assertThatThrownBy(() -> codec.decode("dev.berth.ship.sunk.v1", "{}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dev.berth.ship.sunk.v1");
        assertThatThrownBy(() -> codec.decode("dev.berth.ship.docked.v1", "{not json"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dev.berth.ship.docked.v1");
        assertThat(codec.decodeIfKnown("dev.berth.ship.sunk.v1", "{}")).isEmpty();
        assertThat(codec.decodeIfKnown("dev.berth.ship.departed.v1", "{\"tons\":1}")).isPresent();
    }

    @Test
    void refusesFamiliesWithoutTypesOrWithDuplicateTypes() {
        assertThatThrownBy(() -> EventCodec.of(Broken.class))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NoType").hasMessageContaining("@EventType");
        assertThatThrownBy(() -> EventCodec.of(Twice.class))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dev.berth.twice.same.v1");
        assertThatThrownBy(() -> EventCodec.of(Runnable.class))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a sealed interface");
    }
}
