package dev.berth.image.projection;

import dev.berth.events.EventCodec;
import dev.berth.eventstore.Projection;
import dev.berth.eventstore.StoredEvent;
import dev.berth.image.domain.ImageEvent;
import dev.berth.image.domain.ImageEvent.ImageAdded;
import dev.berth.image.domain.ImageEvent.ImageDeleted;
import dev.berth.image.domain.ImageEvent.ImageTagged;
import dev.berth.image.domain.ImageEvent.ImageUntagged;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Keeps {@code image_view} and {@code image_blob} equal to the fold of the image events. */
@ApplicationScoped
public class ImageProjection implements Projection {

    private static final EventCodec<ImageEvent> CODEC = EventCodec.of(ImageEvent.class);

    @Override
    public String name() {
        return "images";
    }

    @Override
    public Uni<Void> apply(Mutiny.Session session, StoredEvent event) {
        if (!CODEC.knows(event.type())) {
            return Uni.createFrom().voidItem();
        }
        ImageEvent decoded = CODEC.decode(event.type(), event.data());
        String tenant = event.tenant();
        String key = ImageView.key(tenant, decoded.imageId());
        if (decoded instanceof ImageAdded a) {
            ImageView v = new ImageView();
            v.key = key;
            v.tenant = tenant;
            v.id = a.imageId();
            v.repoTags = EventCodec.toJson(new TreeSet<>(a.repoTags()));
            v.repoDigests = a instanceof ImageEvent.ImagePulled p && p.repoDigests() != null
                    ? EventCodec.toJson(p.repoDigests()) : "[]";
            v.parentId = "";
            v.createdAt = a.created();
            v.size = a.size();
            Map<String, String> labels = a.config() == null ? null : a.config().Labels();
            v.labelsJson = EventCodec.toJson(labels == null ? Map.of() : labels);
            v.comment = a.comment() == null ? "" : a.comment();
            v.architecture = a.architecture();
            v.os = a.os();
            v.manifestDigest = a.manifestDigest();
            v.layersJson = EventCodec.toJson(a.layers());
            v.runtimeJson = EventCodec.toJson(a.config());
            v.lastTagTime = a.repoTags().isEmpty() ? null : event.time();
            Set<String> digests = new LinkedHashSet<>();
            digests.add(a.configDigest());
            digests.add(a.manifestDigest());
            a.layers().forEach(l -> digests.add(l.digest()));
            Uni<Void> chain = session.persist(v).chain(session::flush);
            for (String digest : digests) {
                chain = chain.chain(() -> session.createNativeQuery(
                                "insert into image_blob (tenant, image_id, digest) values (:tenant, :image, :digest)"
                                        + " on conflict do nothing")
                        .setParameter("tenant", tenant).setParameter("image", a.imageId())
                        .setParameter("digest", digest).executeUpdate().replaceWithVoid());
            }
            return chain;
        }
        if (decoded instanceof ImageTagged t) {
            return retag(session, key, t.reference(), true, event);
        }
        if (decoded instanceof ImageUntagged u) {
            return retag(session, key, u.reference(), false, event);
        }
        if (decoded instanceof ImageEvent.RepoDigestRecorded r) {
            return session.find(ImageView.class, key).chain(v -> {
                if (v == null) {
                    return Uni.createFrom().voidItem();
                }
                List<String> digests = new ArrayList<>(ImageRows.strings(v.repoDigests));
                if (digests.contains(r.repoDigest())) {
                    return Uni.createFrom().voidItem();
                }
                digests.add(r.repoDigest());
                v.repoDigests = EventCodec.toJson(digests);
                return session.flush();
            });
        }
        if (decoded instanceof ImageDeleted d) {
            return session.find(ImageView.class, key)
                    .chain(v -> v == null ? Uni.createFrom().voidItem() : session.remove(v))
                    .chain(session::flush)
                    .chain(() -> session.createNativeQuery(
                                    "delete from image_blob where tenant = :tenant and image_id = :image")
                            .setParameter("tenant", tenant).setParameter("image", d.imageId()).executeUpdate())
                    .replaceWithVoid();
        }
        return Uni.createFrom().voidItem();
    }

    private Uni<Void> retag(Mutiny.Session session, String key, String reference, boolean add, StoredEvent event) {
        return session.find(ImageView.class, key).chain(v -> {
            if (v == null) {
                return Uni.createFrom().voidItem();
            }
            List<String> current = new ArrayList<>(ImageRows.strings(v.repoTags));
            Set<String> tags = new TreeSet<>(current);
            if (add) {
                tags.add(reference);
                v.lastTagTime = event.time();
            } else {
                tags.remove(reference);
            }
            v.repoTags = EventCodec.toJson(tags);
            return session.flush();
        });
    }

    @Override
    public Uni<Void> reset(Mutiny.Session session) {
        return session.createNativeQuery("delete from image_view").executeUpdate()
                .chain(() -> session.createNativeQuery("delete from image_blob").executeUpdate())
                .replaceWithVoid();
    }
}
