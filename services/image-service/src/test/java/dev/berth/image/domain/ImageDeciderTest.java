package dev.berth.image.domain;

import dev.berth.events.DomainException;
import dev.berth.image.domain.ImageCommand.AddImage;
import dev.berth.image.domain.ImageCommand.RemoveImage;
import dev.berth.image.domain.ImageCommand.TagImage;
import dev.berth.image.domain.ImageEvent.ImageDeleted;
import dev.berth.image.domain.ImageEvent.ImageImported;
import dev.berth.image.domain.ImageEvent.ImageTagged;
import dev.berth.image.domain.ImageEvent.ImageUntagged;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Given/when/then on the image store decider, no I/O. */
class ImageDeciderTest {

    private static final String A = "sha256:" + "a".repeat(64);
    private static final String B = "sha256:" + "b".repeat(64);
    private final ImageDecider decider = new ImageDecider();

    private static ImageImported image(String id, String... tags) {
        return new ImageImported(id, id, "sha256:" + "c".repeat(64), "m", List.of(), null, "amd64", "linux", "",
                Instant.EPOCH, 1, List.of(tags));
    }

    private ImageStore given(ImageEvent... events) {
        return decider.fold(List.of(events));
    }

    @Test
    void importingATagHeldByAnotherImageMovesIt() {
        List<ImageEvent> events = decider.decide(new AddImage(image(B), List.of(Reference.parse("x:1"))),
                given(image(A, "x:1")));
        assertThat(events).containsExactly(new ImageUntagged(A, "x:1"), image(B, "x:1"));
    }

    @Test
    void loadingAnImageThatExistsOnlyTagsIt() {
        assertThat(decider.decide(new AddImage(image(A), List.of(Reference.parse("x:2"))), given(image(A, "x:1"))))
                .containsExactly(new ImageTagged(A, "x:2"));
        assertThat(decider.decide(new AddImage(image(A), List.of(Reference.parse("x:1"))), given(image(A, "x:1"))))
                .isEmpty();
    }

    @Test
    void tagOfAMissingImageIs404() {
        assertThatThrownBy(() -> decider.decide(new TagImage(B, Reference.parse("y")), given(image(A))))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.status()).isEqualTo(404));
    }

    @Test
    void removingOneOfSeveralTagsOnlyUntags() {
        ImageStore s = given(image(A, "x:1", "x:2"));
        assertThat(decider.decide(new RemoveImage(A, Reference.parse("x:2"), "x:2", false, Set.of(), Set.of()), s))
                .containsExactly(new ImageUntagged(A, "x:2"));
    }

    @Test
    void removingTheLastTagDeletes() {
        ImageStore s = given(image(A, "x:1"));
        assertThat(decider.decide(new RemoveImage(A, Reference.parse("x:1"), "x:1", false, Set.of(), Set.of()), s))
                .containsExactly(new ImageUntagged(A, "x:1"), new ImageDeleted(A));
    }

    @Test
    void removingByIdWithSeveralTagsNeedsForce() {
        ImageStore s = given(image(A, "x:1", "y:1"));
        assertThatThrownBy(() -> decider.decide(new RemoveImage(A, null, "aaaa", false, Set.of(), Set.of()), s))
                .isInstanceOfSatisfying(DomainException.class, e -> {
                    assertThat(e.status()).isEqualTo(409);
                    assertThat(e).hasMessage("conflict: unable to delete aaaaaaaaaaaa (must be forced)"
                            + " - image is referenced in multiple repositories");
                });
        assertThat(decider.decide(new RemoveImage(A, null, "aaaa", true, Set.of(), Set.of()), s))
                .containsExactly(new ImageUntagged(A, "x:1"), new ImageUntagged(A, "y:1"), new ImageDeleted(A));
    }

    @Test
    void containersBlockRemoval() {
        ImageStore s = given(image(A, "x:1"));
        String c = "f".repeat(64);
        assertThatThrownBy(() -> decider.decide(new RemoveImage(A, Reference.parse("x:1"), "x:1", false, Set.of(c),
                Set.of()), s)).hasMessage("conflict: unable to remove repository reference \"x:1\" (must force)"
                + " - container ffffffffffff is using its referenced image aaaaaaaaaaaa");
        assertThatThrownBy(() -> decider.decide(new RemoveImage(A, null, A, true, Set.of(c), Set.of(c)), s))
                .hasMessage("conflict: unable to delete aaaaaaaaaaaa (cannot be forced)"
                        + " - image is being used by running container ffffffffffff");
        // forced by name: the reference goes, the image in use stays
        assertThat(decider.decide(new RemoveImage(A, Reference.parse("x:1"), "x:1", true, Set.of(c), Set.of(c)), s))
                .containsExactly(new ImageUntagged(A, "x:1"));
    }

    @Test
    void referencesNormaliseToTheFamiliarForm() {
        assertThat(Reference.parse("docker.io/library/busybox:1").familiar()).isEqualTo("busybox:1");
        assertThat(Reference.parse("index.docker.io/foo/bar").familiar()).isEqualTo("foo/bar:latest");
        assertThat(Reference.parse("127.0.0.1:5000/bb:t2").familiar()).isEqualTo("127.0.0.1:5000/bb:t2");
        assertThat(Reference.parse("localhost/a/b").familiar()).isEqualTo("localhost/a/b:latest");
        assertThatThrownBy(() -> Reference.parse("Busy")).hasMessage(
                "invalid reference format: repository name (Busy) must be lowercase");
        assertThatThrownBy(() -> Reference.parse("a:b:c")).hasMessage("invalid reference format");
        assertThatThrownBy(() -> Reference.tag("-x")).hasMessage("invalid tag format");
    }

    @Test
    void changesFollowDockerfileSyntax() {
        var config = ImageConfigs.emptyContainerConfig();
        ImageConfigs.applyChanges(config, List.of("CMD echo hi", "ENTRYPOINT [\"/bin/sh\",\"-c\"]", "ENV A=1 B=\"x y\"",
                "ENV A 2", "EXPOSE 80 53/udp", "LABEL tr=1 \"k 2\"=v", "WORKDIR /w", "WORKDIR sub", "USER nobody",
                "VOLUME /data", "STOPSIGNAL SIGINT"));
        assertThat(config.get("Cmd").toString()).isEqualTo("[\"/bin/sh\",\"-c\",\"echo hi\"]");
        assertThat(config.get("Entrypoint").toString()).isEqualTo("[\"/bin/sh\",\"-c\"]");
        assertThat(config.get("Env").toString()).isEqualTo("[\"B=x y\",\"A=2\"]");
        assertThat(config.get("ExposedPorts").toString()).isEqualTo("{\"80/tcp\":{},\"53/udp\":{}}");
        assertThat(config.get("Labels").toString()).isEqualTo("{\"tr\":\"1\",\"k 2\":\"v\"}");
        assertThat(config.get("WorkingDir").asText()).isEqualTo("/w/sub");
        assertThat(config.get("User").asText()).isEqualTo("nobody");
        assertThat(config.get("Volumes").toString()).isEqualTo("{\"/data\":{}}");
        assertThat(config.get("StopSignal").asText()).isEqualTo("SIGINT");
        assertThatThrownBy(() -> ImageConfigs.applyChanges(config, List.of("RUN rm -rf /")))
                .hasMessage("run is not a valid change command");
    }
}
