package dev.berth.container.domain;

import dev.berth.container.domain.ContainerCommand.RecordObservation;
import dev.berth.container.domain.ContainerCommand.RemoveContainer;
import dev.berth.container.domain.ContainerEvent.ContainerCreated;
import dev.berth.container.domain.ContainerEvent.ContainerDied;
import dev.berth.container.domain.ContainerEvent.ContainerPaused;
import dev.berth.container.domain.ContainerEvent.ContainerRemoved;
import dev.berth.container.domain.ContainerEvent.ContainerRestartedByPolicy;
import dev.berth.container.domain.ContainerEvent.ContainerStartFailed;
import dev.berth.container.domain.ContainerEvent.ContainerStarted;
import dev.berth.events.DomainException;
import dev.berth.events.node.NodeObservation;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Node observations become container events (given/when/then, no I/O). */
class LifecycleDeciderTest {

    private static final String A = "a".repeat(64);
    private static final String NODE = "n1";
    private static final Instant T = Instant.parse("2026-11-30T00:00:00Z");
    private static final Map<String, String> LABELS = Map.of("tier", "web");
    private final ContainerDecider decider = new ContainerDecider();

    private static ContainerCreated created() {
        var host = new ContainerSpec.HostSpec(List.of(), Map.of(), false, "default",
                new ContainerSpec.RestartPolicy("no", 0),
                new ContainerSpec.Resources(0, 0, 0, 0, 0, 0, 0, "", "", 0, 0), false, List.of(), List.of(), false,
                false, Map.of(), List.of(), new ContainerSpec.LogConfig("json-file", Map.of()));
        var spec = new ContainerSpec("bb:1", "sha256:" + "1".repeat(64), "", "", "", List.of(), List.of("sh"),
                List.of(), "", LABELS, List.of(), List.of(), "", false, false, false, false, true, true, host);
        return new ContainerCreated(A, "web", spec, T, NODE);
    }

    private List<ContainerEvent> when(List<ContainerEvent> given, NodeObservation.ContainerFact fact) {
        return decider.decide(new RecordObservation(fact), decider.fold(given));
    }

    private static List<ContainerEvent> history(ContainerEvent... more) {
        List<ContainerEvent> all = new ArrayList<>();
        all.add(created());
        all.addAll(List.of(more));
        return all;
    }

    private static ContainerStarted started() {
        return new ContainerStarted(A, "web", "bb:1", LABELS, NODE, 42, T, null);
    }

    @Test
    void aStartBecomesStartedOnceWithNameImageAndLabels() {
        var fact = new NodeObservation.ContainerStarted(NODE, A, 42, T, null);
        assertThat(when(history(), fact)).containsExactly(started());
        // the node answers a start of a running container with ContainerStarted too: no second event
        assertThat(when(history(started()), fact)).isEmpty();
    }

    @Test
    void anExitIsDiedAndARestartingExitIsRestartingThenRunningAgain() {
        var exit = new NodeObservation.ContainerExited(NODE, A, 1, false, T, true);
        ContainerDied died = new ContainerDied(A, "web", "bb:1", LABELS, 1, false, T, true);
        assertThat(when(history(started()), exit)).containsExactly(died);
        assertThat(decider.fold(history(started(), died)).byId().get(A).status()).isEqualTo("restarting");
        var restarted = new NodeObservation.ContainerRestarted(NODE, A, 1, 43, T, null);
        assertThat(when(history(started(), died), restarted)).containsExactly(
                new ContainerRestartedByPolicy(A, "web", "bb:1", LABELS, 1, 43, T, null));
        // an exit of a container that does not run (a duplicate) changes nothing
        assertThat(when(history(), exit)).isEmpty();
    }

    @Test
    void aFailedStartKeepsItCreated() {
        var failed = new NodeObservation.ContainerStartFailed(NODE, A, 400, 127, "exec: \"nope\": executable file not found in $PATH");
        List<ContainerEvent> events = when(history(), failed);
        assertThat(events).containsExactly(new ContainerStartFailed(A, "web", "bb:1", LABELS, 127, failed.message()));
        assertThat(decider.fold(history(events.toArray(ContainerEvent[]::new))).byId().get(A).status())
                .isEqualTo("created");
    }

    @Test
    void anAutoRemovalFreesTheNameAndFactsAboutUnknownContainersAreIgnored() {
        var removed = new NodeObservation.ContainerRemoved(NODE, A, true);
        assertThat(when(history(), removed)).containsExactly(new ContainerRemoved(A, "web", "bb:1", LABELS, true));
        assertThat(when(List.of(), removed)).isEmpty();
        assertThat(when(List.of(), new NodeObservation.CommandFailed(NODE, A, "x", 409, "no"))).isEmpty();
    }

    @Test
    void aStateReportBringsTheAggregateToTheNodesState() {
        var running = new NodeObservation.ContainerStateReported(NODE, A, "running", 50, 0, T, null);
        assertThat(when(history(), running)).containsExactly(new ContainerStarted(A, "web", "bb:1", LABELS, NODE, 50, T, null));
        var exited = new NodeObservation.ContainerStateReported(NODE, A, "exited", 0, 137, T, T);
        assertThat(when(history(started()), exited)).containsExactly(
                new ContainerDied(A, "web", "bb:1", LABELS, 137, false, T, false));
        var paused = new NodeObservation.ContainerStateReported(NODE, A, "paused", 42, 0, T, null);
        assertThat(when(history(started()), paused)).containsExactly(new ContainerPaused(A, "web", "bb:1", LABELS));
        assertThat(when(history(started()), new NodeObservation.ContainerStateReported(NODE, A, "running", 42, 0, T,
                null))).isEmpty();
    }

    @Test
    void removingARunningContainerWithoutForceIsDockers409() {
        assertThatThrownBy(() -> decider.decide(new RemoveContainer("web", false, false), decider.fold(history(started()))))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(409))
                .hasMessage("You cannot remove a running container " + A
                        + ". Stop the container before attempting removal or force remove");
        assertThat(decider.decide(new RemoveContainer("web", true, false), decider.fold(history(started()))))
                .containsExactly(new ContainerRemoved(A, "web", "bb:1", LABELS, false));
    }
}
