package dev.berth.container.domain;

import dev.berth.container.domain.ContainerCommand.CreateContainer;
import dev.berth.container.domain.ContainerCommand.RemoveContainer;
import dev.berth.container.domain.ContainerCommand.RenameContainer;
import dev.berth.container.domain.ContainerEvent.ContainerCreated;
import dev.berth.container.domain.ContainerEvent.ContainerRemoved;
import dev.berth.container.domain.ContainerEvent.ContainerRenamed;
import dev.berth.events.DomainException;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Given events, when a command, then events or Docker's refusal. */
class ContainerDeciderTest {

    private static final Instant NOW = Instant.parse("2026-11-30T00:00:00.123456789Z");
    private static final String A = "a".repeat(64);
    private static final String AB = "ab" + "0".repeat(62);
    private static final String B = "b".repeat(64);
    private final ContainerDecider decider = new ContainerDecider();

    static ContainerSpec spec() {
        var host = new ContainerSpec.HostSpec(List.of(), Map.of(), false, "default",
                new ContainerSpec.RestartPolicy("no", 0),
                new ContainerSpec.Resources(0, 0, 0, 0, 0, 0, 0, "", "", 0, 0), false, List.of(), List.of(), false,
                false, Map.of(), List.of(), new ContainerSpec.LogConfig("json-file", Map.of()));
        return new ContainerSpec("busybox:local", "sha256:" + "1".repeat(64), "", "", "", List.of(), List.of("sh"),
                List.of(), "", Map.of(), List.of(), List.of(), "", false, false, false, false, true, true, host);
    }

    private static final String NODE = "node-1";

    private static ContainerRemoved removed(String id, String name) {
        return new ContainerRemoved(id, name, "busybox:local", Map.of(), false);
    }

    private List<ContainerEvent> when(List<ContainerEvent> given, ContainerCommand command) {
        return decider.decide(command, decider.fold(given));
    }

    private static ContainerCreated created(String id, String name) {
        return new ContainerCreated(id, name, spec(), NOW, NODE);
    }

    @Test
    void createWithANameRecordsTheResolvedSpecWithoutTheSlash() {
        assertThat(when(List.of(), new CreateContainer(A, "/web", List.of(), spec(), NOW, NODE)))
                .containsExactly(created(A, "web"));
    }

    @Test
    void aNameInUseIsDockers409NamingTheHolder() {
        assertThatThrownBy(() -> when(List.of(created(A, "web")), new CreateContainer(B, "web", List.of(), spec(), NOW, NODE)))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(409))
                .hasMessage("Conflict. The container name \"/web\" is already in use by container \"" + A
                        + "\". You have to remove (or rename) that container to be able to reuse that name.");
    }

    @Test
    void aRemovedContainersNameIsFreeAgain() {
        assertThat(when(List.of(created(A, "web"), removed(A, "web")),
                new CreateContainer(B, "web", List.of(), spec(), NOW, NODE))).containsExactly(created(B, "web"));
    }

    @Test
    void invalidNamesAre400() {
        assertThatThrownBy(() -> when(List.of(), new CreateContainer(A, "bad name", List.of(), spec(), NOW, NODE)))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(400))
                .hasMessage("Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
    }

    @Test
    void withoutANameTheFirstFreeGeneratedCandidateIsTaken() {
        assertThat(when(List.of(created(A, "happy_turing")),
                new CreateContainer(B, null, List.of("happy_turing", "sleepy_knuth"), spec(), NOW, NODE)))
                .containsExactly(created(B, "sleepy_knuth"));
    }

    @Test
    void generatedNamesLookLikeDockers() {
        var random = new SplittableRandom(7);
        for (int i = 0; i < 50; i++) {
            assertThat(Names.random(random, 0)).matches("[a-z]+_[a-z]+");
        }
        assertThat(Names.random(random, 1)).matches("[a-z]+_[a-z]+[0-9]");
    }

    @Test
    void renameByIdPrefixAndRemoveByNameUseTheCurrentName() {
        List<ContainerEvent> given = List.of(created(A, "web"), created(B, "db"));
        assertThat(when(given, new RenameContainer("aaa", "front"))).containsExactly(new ContainerRenamed(A, "web", "front"));
        List<ContainerEvent> renamed = List.of(created(A, "web"), created(B, "db"), new ContainerRenamed(A, "web", "front"));
        assertThat(when(renamed, new RemoveContainer("/front", false, false))).containsExactly(removed(A, "front"));
        assertThatThrownBy(() -> when(renamed, new RemoveContainer("web", false, false)))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(404))
                .hasMessage("No such container: web");
    }

    @Test
    void renameToATakenNameIs409AndToTheSameNameIs400() {
        List<ContainerEvent> given = List.of(created(A, "web"), created(B, "db"));
        assertThatThrownBy(() -> when(given, new RenameContainer("web", "db")))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(409));
        assertThatThrownBy(() -> when(given, new RenameContainer("web", "web")))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(400));
    }

    @Test
    void anAmbiguousPrefixIs400AndANameBeatsAPrefix() {
        List<ContainerEvent> given = List.of(created(A, "web"), created(AB, "a"));
        // "a" is the name of AB, so it resolves to AB although it also prefixes A
        assertThat(when(given, new RemoveContainer("a", false, false))).containsExactly(removed(AB, "a"));
        List<ContainerEvent> two = List.of(created(A, "web"), created(AB, "db"));
        assertThatThrownBy(() -> when(two, new RemoveContainer("a", false, false)))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(400))
                .hasMessage("Multiple IDs found with provided prefix: a");
    }
}
