package dev.berth.image.domain;

import dev.berth.events.Decider;
import dev.berth.events.DomainException;
import dev.berth.image.domain.ImageCommand.AddImage;
import dev.berth.image.domain.ImageCommand.DeleteImages;
import dev.berth.image.domain.ImageCommand.RemoveImage;
import dev.berth.image.domain.ImageCommand.TagImage;
import dev.berth.image.domain.ImageCommand.UntagImage;
import dev.berth.image.domain.ImageEvent.ImageAdded;
import dev.berth.image.domain.ImageEvent.ImageDeleted;
import dev.berth.image.domain.ImageEvent.ImageImported;
import dev.berth.image.domain.ImageEvent.ImageLoaded;
import dev.berth.image.domain.ImageEvent.ImagePushed;
import dev.berth.image.domain.ImageEvent.ImageTagged;
import dev.berth.image.domain.ImageEvent.ImageUntagged;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A tenant's image store as one aggregate. References are unique per tenant and moving one from an image to another
 * must be atomic (untag there, tag here), as in Docker's reference store; one aggregate per tenant gives that
 * without a cross-aggregate transaction. The removal rules follow Docker's {@code ImageDelete}.
 */
public final class ImageDecider implements Decider<ImageCommand, ImageStore, ImageEvent> {

    @Override
    public ImageStore initialState() {
        return ImageStore.EMPTY;
    }

    @Override
    public List<ImageEvent> decide(ImageCommand command, ImageStore state) {
        if (command instanceof AddImage a) {
            return add(a, state);
        }
        if (command instanceof TagImage t) {
            return tag(t, state);
        }
        if (command instanceof RemoveImage r) {
            return remove(r, state);
        }
        if (command instanceof UntagImage u) {
            return untag(u, state);
        }
        if (command instanceof ImageCommand.RecordRepoDigest d) {
            return state.images().containsKey(d.imageId())
                    ? List.of(new ImageEvent.RepoDigestRecorded(d.imageId(), d.repoDigest())) : List.of();
        }
        return delete((DeleteImages) command, state);
    }

    private List<ImageEvent> add(AddImage a, ImageStore state) {
        String id = a.image().imageId();
        List<ImageEvent> events = new ArrayList<>();
        Set<String> refs = new LinkedHashSet<>();
        a.tags().forEach(r -> refs.add(r.familiar()));
        for (String ref : refs) {
            String holder = state.tags().get(ref);
            if (holder != null && !holder.equals(id)) {
                events.add(new ImageUntagged(holder, ref));
            }
        }
        if (!state.images().containsKey(id)) {
            ImageAdded i = a.image();
            List<String> tags = List.copyOf(refs);
            events.add(i instanceof ImageEvent.ImageBuilt
                    ? new ImageEvent.ImageBuilt(id, i.configDigest(), i.manifestDigest(), i.manifestMediaType(),
                    i.layers(), i.config(), i.architecture(), i.os(), i.comment(), i.created(), i.size(), tags)
                    : i instanceof ImageEvent.ImagePulled p
                    ? new ImageEvent.ImagePulled(id, p.configDigest(), p.manifestDigest(), p.manifestMediaType(),
                    p.layers(), p.config(), p.architecture(), p.os(), p.comment(), p.created(), p.size(), tags,
                    p.repoDigests())
                    : i instanceof ImagePushed
                    ? new ImagePushed(id, i.configDigest(), i.manifestDigest(), i.manifestMediaType(), i.layers(),
                    i.config(), i.architecture(), i.os(), i.comment(), i.created(), i.size(), tags)
                    : i instanceof ImageLoaded
                    ? new ImageLoaded(id, i.configDigest(), i.manifestDigest(), i.manifestMediaType(), i.layers(),
                    i.config(), i.architecture(), i.os(), i.comment(), i.created(), i.size(), tags)
                    : new ImageImported(id, i.configDigest(), i.manifestDigest(), i.manifestMediaType(), i.layers(),
                    i.config(), i.architecture(), i.os(), i.comment(), i.created(), i.size(), tags));
            return events;
        }
        for (String ref : refs) {
            if (!id.equals(state.tags().get(ref))) {
                events.add(new ImageTagged(id, ref));
            }
        }
        return events;
    }

    private List<ImageEvent> tag(TagImage t, ImageStore state) {
        if (!state.images().containsKey(t.imageId())) {
            throw DomainException.notFound("No such image: " + t.imageId());
        }
        String ref = t.reference().familiar();
        String holder = state.tags().get(ref);
        if (t.imageId().equals(holder)) {
            return List.of();
        }
        List<ImageEvent> events = new ArrayList<>();
        if (holder != null) {
            events.add(new ImageUntagged(holder, ref));
        }
        events.add(new ImageTagged(t.imageId(), ref));
        return events;
    }

    private List<ImageEvent> untag(UntagImage u, ImageStore state) {
        String ref = u.reference().familiar();
        String holder = state.tags().get(ref);
        if (holder == null) {
            throw DomainException.notFound("No such image: " + ref);
        }
        return List.of(new ImageUntagged(holder, ref));
    }

    private List<ImageEvent> remove(RemoveImage r, ImageStore state) {
        String id = r.imageId();
        if (!state.images().containsKey(id)) {
            throw DomainException.notFound("No such image: " + r.given());
        }
        List<String> refs = state.tagsOf(id);
        Set<String> remaining = new TreeSet<>(refs);
        List<ImageEvent> events = new ArrayList<>();
        boolean quiet = false;
        if (r.byName() != null) {
            String ref = r.byName().familiar();
            if (!remaining.contains(ref)) {
                throw DomainException.notFound("No such image: " + r.given());
            }
            if (!r.force() && refs.size() <= 1 && !r.users().isEmpty()) {
                throw DomainException.conflict("conflict: unable to remove repository reference \"" + r.given()
                        + "\" (must force) - container " + shortId(first(r.users())) + " is using its referenced image "
                        + shortId(id));
            }
            events.add(new ImageUntagged(id, ref));
            remaining.remove(ref);
            if (!remaining.isEmpty()) {
                return events;
            }
            quiet = true;
        } else if (refs.size() <= 1) {
            String conflict = conflict(r, Set.of());
            if (conflict != null) {
                throw DomainException.conflict(conflict);
            }
            for (String ref : refs) {
                events.add(new ImageUntagged(id, ref));
            }
            remaining.clear();
        }
        String conflict = conflict(r, remaining);
        if (conflict != null) {
            if (quiet && !r.users().isEmpty()) {
                // Docker's rule: an untag that leaves an image in use dangling is done; the image itself stays
                return events;
            }
            throw DomainException.conflict(conflict);
        }
        for (String ref : remaining) {
            events.add(new ImageUntagged(id, ref));
        }
        events.add(new ImageDeleted(id));
        return events;
    }

    /** Docker's {@code checkImageDeleteConflict}: hard conflicts first, soft ones only without force. */
    private static String conflict(RemoveImage r, Set<String> remaining) {
        String id = shortId(r.imageId());
        if (!r.running().isEmpty()) {
            return "conflict: unable to delete " + id + " (cannot be forced) - image is being used by running container "
                    + shortId(first(r.running()));
        }
        if (r.force()) {
            return null;
        }
        if (remaining.size() > 1) {
            return "conflict: unable to delete " + id + " (must be forced) - image is referenced in multiple repositories";
        }
        if (!r.users().isEmpty()) {
            return "conflict: unable to delete " + id + " (must be forced) - image is being used by stopped container "
                    + shortId(first(r.users()));
        }
        return null;
    }

    private List<ImageEvent> delete(DeleteImages d, ImageStore state) {
        List<ImageEvent> events = new ArrayList<>();
        for (String id : d.imageIds()) {
            if (!state.images().containsKey(id)) {
                continue;
            }
            for (String ref : state.tagsOf(id)) {
                events.add(new ImageUntagged(id, ref));
            }
            events.add(new ImageDeleted(id));
        }
        return events;
    }

    @Override
    public ImageStore evolve(ImageStore state, ImageEvent event) {
        Map<String, ImageAdded> images = state.mutableImages();
        Map<String, String> tags = state.mutableTags();
        if (event instanceof ImageAdded a) {
            images.put(a.imageId(), a);
            a.repoTags().forEach(t -> tags.put(t, a.imageId()));
        } else if (event instanceof ImageTagged t) {
            tags.put(t.reference(), t.imageId());
        } else if (event instanceof ImageUntagged u) {
            tags.remove(u.reference(), u.imageId());
        } else if (event instanceof ImageDeleted d) {
            images.remove(d.imageId());
            tags.values().removeIf(d.imageId()::equals);
        }
        return state.with(images, tags);
    }

    /** The 12 hex digits Docker shows for an id. */
    public static String shortId(String id) {
        String hex = id.startsWith("sha256:") ? id.substring(7) : id;
        return hex.length() > 12 ? hex.substring(0, 12) : hex;
    }

    private static String first(Set<String> ids) {
        return new TreeSet<>(ids).first();
    }
}
