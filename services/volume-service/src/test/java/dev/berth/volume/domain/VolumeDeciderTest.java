package dev.berth.volume.domain;

import dev.berth.events.DomainException;
import dev.berth.volume.domain.VolumeCommand.CreateVolume;
import dev.berth.volume.domain.VolumeCommand.RemoveVolume;
import dev.berth.volume.domain.VolumeEvent.VolumeCreated;
import dev.berth.volume.domain.VolumeEvent.VolumeRemoved;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class VolumeDeciderTest {

    private static final Instant NOW = Instant.parse("2026-11-30T00:14:39.123Z");
    private final VolumeDecider decider = new VolumeDecider();

    private Volume given(VolumeEvent... events) {
        return decider.fold(List.of(events));
    }

    private static CreateVolume create(String name, String driver, Map<String, String> options) {
        return new CreateVolume(name, VolumeDecider.mountpoint("default", name), driver, Map.of("tr", "1"), options, NOW);
    }

    private static VolumeCreated created(String name) {
        return new VolumeCreated(name, "local", VolumeDecider.mountpoint("default", name), Map.of(), null,
                NOW.minusSeconds(60));
    }

    @Test
    void createOfANewNameRecordsTheVolumeWithSecondPrecision() {
        List<VolumeEvent> events = decider.decide(create("trvol", null, null), given());
        assertThat(events).containsExactly(new VolumeCreated("trvol", "local", "/var/lib/berth/volumes/trvol/_data",
                Map.of("tr", "1"), null, Instant.parse("2026-11-30T00:14:39Z")));
    }

    @Test
    void createOfAnExistingNameChangesNothing() {
        assertThat(decider.decide(create("trvol", "local", null), given(created("trvol")))).isEmpty();
    }

    @Test
    void aRemovedVolumeCanBeCreatedAgain() {
        Volume state = given(created("trvol"), new VolumeRemoved("trvol"));
        assertThat(state.exists()).isFalse();
        assertThat(decider.decide(create("trvol", null, null), state)).hasSize(1);
    }

    @Test
    void onlyTheLocalDriverIsAccepted() {
        assertThatThrownBy(() -> decider.decide(create("trvol", "nfs-plugin", null), given()))
                .isInstanceOfSatisfying(DomainException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.getMessage()).contains("\"nfs-plugin\"");
                });
    }

    @Test
    void unknownLocalDriverOptionsAreRefused() {
        assertThatThrownBy(() -> decider.decide(create("trvol", "local", Map.of("colour", "red")), given()))
                .isInstanceOfSatisfying(DomainException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.getMessage()).isEqualTo("create trvol: invalid option: \"colour\"");
                });
        assertThat(decider.decide(create("tmpvol", "local", Map.of("type", "tmpfs", "device", "tmpfs")), given()))
                .singleElement().extracting(e -> ((VolumeCreated) e).options())
                .isEqualTo(Map.of("type", "tmpfs", "device", "tmpfs"));
    }

    @Test
    void namesFollowDockersLocalDriverRule() {
        assertThatThrownBy(() -> decider.decide(create("a", null, null), given()))
                .hasMessageContaining("volume name is too short");
        assertThatThrownBy(() -> decider.decide(create("../etc", null, null), given()))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(400))
                .hasMessageContaining("includes invalid characters for a local volume name");
        assertThat(decider.decide(create("a_b.c-d", null, null), given())).hasSize(1);
    }

    @Test
    void removeOfAnExistingVolumeRecordsTheRemoval() {
        assertThat(decider.decide(new RemoveVolume("trvol", false), given(created("trvol"))))
                .containsExactly(new VolumeRemoved("trvol"));
    }

    @Test
    void removeOfAMissingVolumeIsNotFoundUnlessForced() {
        assertThatThrownBy(() -> decider.decide(new RemoveVolume("gone", false), given()))
                .isInstanceOfSatisfying(DomainException.class, e -> {
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.getMessage()).isEqualTo("get gone: no such volume");
                });
        assertThat(decider.decide(new RemoveVolume("gone", true), given(created("gone"), new VolumeRemoved("gone"))))
                .isEmpty();
    }

    @Test
    void otherTenantsKeepTheirVolumesInTheirOwnTree() {
        assertThat(VolumeDecider.mountpoint("default", "data")).isEqualTo("/var/lib/berth/volumes/data/_data");
        assertThat(VolumeDecider.mountpoint("acme", "data")).isEqualTo("/var/lib/berth/tenants/acme/volumes/data/_data");
    }
}
