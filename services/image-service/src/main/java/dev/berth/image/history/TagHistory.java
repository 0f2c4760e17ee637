package dev.berth.image.history;

import dev.berth.events.DomainException;
import dev.berth.image.domain.ImageCommand;
import dev.berth.image.domain.ImageDecider;
import dev.berth.image.domain.Reference;
import dev.berth.image.persistence.ImageService;
import dev.berth.image.projection.ImageView;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The history of a tag and rolling a tag back to an image it pointed at before. A rollback is an ordinary tag move
 * (an {@code untagged} event for the image the tag leaves, a {@code tagged} event for the one it returns to), so
 * every consumer of the image events sees it like any {@code docker tag}, and it is itself in the history.
 */
@ApplicationScoped
public class TagHistory {

    private final ImageService images;
    private final Mutiny.SessionFactory sessions;

    public TagHistory(ImageService images, Mutiny.SessionFactory sessions) {
        this.images = images;
        this.sessions = sessions;
    }

    /**
     * A tag's moves, newest first, and the image it names now.
     *
     * @param current the image the tag names now, or null when its last move took it away
     */
    public record Listing(String reference, String current, List<TagMove> moves) {
    }

    /** What a rollback did: the tag now names {@code imageId}; it named {@code previous} (null: nothing). */
    public record Rollback(String reference, String imageId, String previous) {
    }

    /**
     * Lists the moves of a tag of the tenant.
     *
     * @param name a reference as Docker accepts it ({@code x}, {@code x:1}, {@code docker.io/library/x:1})
     * @throws DomainException 400 for a malformed reference, 404 when the tag never existed in the tenant
     */
    public Uni<Listing> list(String tenant, String name) {
        Reference ref = Reference.parse(name);
        return TagHistoryProjection.read(sessions, tenant, ref.familiar()).map(moves -> {
            if (moves.isEmpty()) {
                throw DomainException.notFound("No history for tag " + ref.familiar() + ": it never named an image");
            }
            List<TagMove> newestFirst = new java.util.ArrayList<>(moves);
            java.util.Collections.reverse(newestFirst);
            return new Listing(ref.familiar(), current(moves), newestFirst);
        });
    }

    /**
     * Points a tag back at an image it named before.
     *
     * @param to the target: an image id (full, without {@code sha256:}, or a unique prefix among the tag's images) or
     *           the manifest digest of an image of the tenant
     * @throws DomainException 400 for a malformed reference or a missing {@code to}; 404 when the tag has no history
     *                         or never named the target; 409 when the target image has been deleted since
     */
    public Uni<Rollback> rollback(String tenant, String name, String to) {
        Reference ref = Reference.parse(name);
        if (to == null || to.isBlank()) {
            return Uni.createFrom().failure(DomainException.badRequest(
                    "to is required: the image id or manifest digest to roll " + ref.familiar() + " back to"));
        }
        return TagHistoryProjection.read(sessions, tenant, ref.familiar()).chain(moves -> {
            if (moves.isEmpty()) {
                throw DomainException.notFound("No history for tag " + ref.familiar() + ": it never named an image");
            }
            Set<String> named = new LinkedHashSet<>();
            moves.stream().filter(m -> m.action().equals(TagMove.TAGGED)).forEach(m -> named.add(m.imageId()));
            String previous = current(moves);
            return target(tenant, named, to).chain(target -> {
                if (target == null) {
                    throw DomainException.notFound(ref.familiar() + " never named " + to
                            + ": GET its history for the images it named");
                }
                if (target.equals(previous)) {
                    return Uni.createFrom().item(new Rollback(ref.familiar(), target, previous));
                }
                return images.handle(tenant, new ImageCommand.TagImage(target, ref))
                        .map(d -> new Rollback(ref.familiar(), target, previous))
                        .onFailure(e -> e instanceof DomainException de && de.status() == 404)
                        .transform(e -> deleted(ref, target));
            });
        });
    }

    private Uni<String> target(String tenant, Set<String> named, String to) {
        String id = to.startsWith("sha256:") ? to : "sha256:" + to;
        if (named.contains(id)) {
            return Uni.createFrom().item(id);
        }
        return images.byManifest(tenant, id).map(v -> {
            if (v != null && named.contains(v.id)) {
                return v.id;
            }
            if (!id.matches("sha256:[a-f0-9]+")) {
                return null;
            }
            List<String> prefixed = named.stream().filter(n -> n.startsWith(id)).toList();
            return prefixed.size() == 1 ? prefixed.get(0) : null;
        }).chain(found -> found == null ? Uni.createFrom().nullItem()
                : images.list(tenant).map(rows -> {
                    if (rows.stream().map((ImageView v) -> v.id).noneMatch(found::equals)) {
                        throw deleted(null, found);
                    }
                    return found;
                }));
    }

    private static DomainException deleted(Reference ref, String imageId) {
        return DomainException.conflict("cannot roll back" + (ref == null ? "" : " " + ref.familiar()) + " to image "
                + ImageDecider.shortId(imageId) + ": the image has been deleted since the tag named it");
    }

    private static String current(List<TagMove> oldestFirst) {
        TagMove last = oldestFirst.get(oldestFirst.size() - 1);
        return last.action().equals(TagMove.TAGGED) ? last.imageId() : null;
    }
}
