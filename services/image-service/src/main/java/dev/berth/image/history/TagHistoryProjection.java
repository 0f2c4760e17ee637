package dev.berth.image.history;

import dev.berth.events.EventCodec;
import dev.berth.eventstore.Projection;
import dev.berth.eventstore.StoredEvent;
import dev.berth.image.domain.ImageEvent;
import dev.berth.image.domain.ImageEvent.ImageAdded;
import dev.berth.image.domain.ImageEvent.ImageTagged;
import dev.berth.image.domain.ImageEvent.ImageUntagged;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.util.LinkedHashSet;
import java.util.List;

/**
 * Keeps {@code tag_history}: one row per reference an image event points at an image or takes from one. An image
 * that arrives with tags ({@code imported}, {@code loaded}, {@code pushed}) counts as tagged; a deletion adds nothing
 * because the untagged events before it already record the tags' end.
 */
@ApplicationScoped
public class TagHistoryProjection implements Projection {

    private static final EventCodec<ImageEvent> CODEC = EventCodec.of(ImageEvent.class);

    @Override
    public String name() {
        return "tag-history";
    }

    @Override
    public Uni<Void> apply(Mutiny.Session session, StoredEvent event) {
        if (!CODEC.knows(event.type())) {
            return Uni.createFrom().voidItem();
        }
        ImageEvent decoded = CODEC.decode(event.type(), event.data());
        if (decoded instanceof ImageAdded a) {
            Uni<Void> chain = Uni.createFrom().voidItem();
            for (String ref : new LinkedHashSet<>(a.repoTags())) {
                chain = chain.chain(() -> insert(session, event, ref, a.imageId(), TagMove.TAGGED));
            }
            return chain;
        }
        if (decoded instanceof ImageTagged t) {
            return insert(session, event, t.reference(), t.imageId(), TagMove.TAGGED);
        }
        if (decoded instanceof ImageUntagged u) {
            return insert(session, event, u.reference(), u.imageId(), TagMove.UNTAGGED);
        }
        return Uni.createFrom().voidItem();
    }

    private static Uni<Void> insert(Mutiny.Session session, StoredEvent event, String reference, String imageId,
                                    String action) {
        return session.createNativeQuery("insert into tag_history (position, tenant, reference, image_id, action,"
                        + " event_type, event_id, at) values (:position, :tenant, :reference, :image, :action, :type,"
                        + " :id, :at) on conflict do nothing")
                .setParameter("position", event.position()).setParameter("tenant", event.tenant())
                .setParameter("reference", reference).setParameter("image", imageId).setParameter("action", action)
                .setParameter("type", event.type()).setParameter("id", event.id()).setParameter("at", event.time())
                .executeUpdate().replaceWithVoid();
    }

    @Override
    public Uni<Void> reset(Mutiny.Session session) {
        return session.createNativeQuery("delete from tag_history").executeUpdate().replaceWithVoid();
    }

    /** Reads a tenant's history of one reference, oldest move first. */
    static Uni<List<TagMove>> read(Mutiny.SessionFactory sessions, String tenant, String reference) {
        return sessions.withSession(s -> s.createNativeQuery("select position, image_id, action, event_type, event_id,"
                        + " at from tag_history where tenant = :tenant and reference = :reference order by position",
                Object[].class).setParameter("tenant", tenant).setParameter("reference", reference).getResultList())
                .map(rows -> rows.stream().map(TagMove::of).toList());
    }
}
