package dev.berth.image.registry;

import dev.berth.events.DomainException;
import dev.berth.image.domain.ImageCommand;
import dev.berth.image.domain.ImageDecider;
import dev.berth.image.domain.ImageEvent;
import dev.berth.image.domain.ImageEvent.ImagePushed;
import dev.berth.image.domain.ImageEvent.ImageTagged;
import dev.berth.image.domain.ImageEvent.ImageUntagged;
import dev.berth.image.domain.ImageStore;
import dev.berth.image.domain.Reference;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Given/when/then on the image store for the registry's commands: a pushed image and a tag delete. */
class PushDeciderTest {

    private final ImageDecider decider = new ImageDecider();

    private static ImagePushed pushed(String id) {
        return new ImagePushed(id, id, "sha256:" + "f".repeat(64), Manifests.OCI_MANIFEST,
                List.of(new ImageEvent.Layer("sha256:" + "1".repeat(64), "sha256:" + "2".repeat(64), 10,
                        "application/vnd.oci.image.layer.v1.tar+gzip", 100)), null, "amd64", "linux", "",
                Instant.EPOCH, 100, List.of());
    }

    private ImageStore given(ImageEvent... events) {
        ImageStore s = decider.initialState();
        for (ImageEvent e : events) {
            s = decider.evolve(s, e);
        }
        return s;
    }

    @Test
    void aPushOfANewImageIsAPushedEventWithItsTagAndMovesTheTagFromItsHolder() {
        String a = "sha256:" + "a".repeat(64);
        String b = "sha256:" + "b".repeat(64);
        ImageStore s = given(new ImageEvent.ImageImported(a, a, "sha256:" + "c".repeat(64),
                Manifests.DOCKER_V2, List.of(), null, "amd64", "linux", "", Instant.EPOCH, 0, List.of("x:1")));
        List<ImageEvent> events = decider.decide(new ImageCommand.AddImage(pushed(b),
                List.of(Reference.parse("x:1"))), s);
        assertThat(events).hasSize(2);
        assertThat(events.get(0)).isEqualTo(new ImageUntagged(a, "x:1"));
        assertThat(events.get(1)).isInstanceOf(ImagePushed.class);
        assertThat(((ImagePushed) events.get(1)).repoTags()).containsExactly("x:1");
        assertThat(((ImagePushed) events.get(1)).manifestMediaType()).isEqualTo(Manifests.OCI_MANIFEST);
        // pushed again under another tag: only the tag moves
        ImageStore after = decider.evolve(decider.evolve(s, events.get(0)), events.get(1));
        assertThat(decider.decide(new ImageCommand.AddImage(pushed(b), List.of(Reference.parse("x:2"))), after))
                .containsExactly(new ImageTagged(b, "x:2"));
    }

    @Test
    void untagRemovesOnlyTheReference() {
        String a = "sha256:" + "a".repeat(64);
        ImageStore s = given(pushed(a), new ImageTagged(a, "x:1"), new ImageTagged(a, "x:2"));
        assertThat(decider.decide(new ImageCommand.UntagImage(Reference.parse("x:1")), s))
                .containsExactly(new ImageUntagged(a, "x:1"));
        assertThatThrownBy(() -> decider.decide(new ImageCommand.UntagImage(Reference.parse("x:9")), s))
                .isInstanceOf(DomainException.class).hasMessage("No such image: x:9")
                .extracting(e -> ((DomainException) e).status()).isEqualTo(404);
    }
}
