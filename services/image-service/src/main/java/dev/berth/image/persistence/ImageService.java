package dev.berth.image.persistence;

import dev.berth.events.DomainException;
import dev.berth.eventstore.Aggregates;
import dev.berth.eventstore.EventMetadata;
import dev.berth.image.domain.ImageCommand;
import dev.berth.image.domain.ImageDecider;
import dev.berth.image.domain.ImageEvent;
import dev.berth.image.domain.ImageStore;
import dev.berth.image.domain.Reference;
import dev.berth.image.projection.ImageRows;
import dev.berth.image.projection.ImageView;
import dev.berth.image.gc.BlobCollector;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Runs image commands through the event store and reads the image read models. Each tenant's image store is one
 * aggregate, {@code <tenant>/images} (see {@link ImageDecider} for why).
 */
@ApplicationScoped
public class ImageService {

    public static final String AGGREGATE_TYPE = "image";
    private static final Pattern FULL_ID = Pattern.compile("(sha256:)?[a-f0-9]{64}");
    private static final Pattern ID_PREFIX = Pattern.compile("(sha256:)?[a-f0-9]{1,63}");

    private final Aggregates aggregates;
    private final Mutiny.SessionFactory sessions;
    private final BlobCollector collector;
    private final ImageDecider decider = new ImageDecider();

    public ImageService(Aggregates aggregates, Mutiny.SessionFactory sessions, BlobCollector collector) {
        this.aggregates = aggregates;
        this.sessions = sessions;
        this.collector = collector;
    }

    /** An image found by a name, and the reference that found it (null when found by id). */
    public record Resolved(ImageView image, Reference byName) {
    }

    public static String aggregateId(String tenant) {
        return tenant + "/images";
    }

    /** Runs a command on the tenant's image store; a refusal fails the Uni with a {@link DomainException}. */
    public Uni<Aggregates.Decision<ImageStore, ImageEvent>> handle(String tenant, ImageCommand command) {
        return aggregates.handle(AGGREGATE_TYPE, aggregateId(tenant), decider, ImageEvent.class, command,
                EventMetadata.of(tenant));
    }

    /** Every image of the tenant, newest first (the order {@code docker images} prints). */
    public Uni<List<ImageView>> list(String tenant) {
        return sessions.withSession(s -> s.createQuery(
                        "from ImageView i where i.tenant = :tenant order by i.createdAt desc, i.id", ImageView.class)
                .setParameter("tenant", tenant).getResultList());
    }

    /**
     * Finds an image as Docker does: full id (with or without {@code sha256:}), then reference ({@code x},
     * {@code x:tag}, {@code docker.io/library/x:tag}), then unique id prefix.
     *
     * @throws DomainException 404 {@code No such image: <name>}
     */
    public Uni<Resolved> resolve(String tenant, String name) {
        return list(tenant).map(images -> resolve(images, name));
    }

    /** {@link #resolve(String, String)} over rows already read. */
    public static Resolved resolve(List<ImageView> images, String name) {
        if (name != null && FULL_ID.matcher(name).matches()) {
            String id = name.startsWith("sha256:") ? name : "sha256:" + name;
            for (ImageView v : images) {
                if (v.id.equals(id)) {
                    return new Resolved(v, null);
                }
            }
        }
        Reference ref = null;
        try {
            ref = Reference.parse(name);
        } catch (DomainException ignored) {
            // not a reference: it may still be an id prefix
        }
        if (ref != null) {
            for (ImageView v : images) {
                if (ImageRows.strings(v.repoTags).contains(ref.familiar())) {
                    return new Resolved(v, ref);
                }
            }
        }
        if (name != null && ID_PREFIX.matcher(name).matches()) {
            String prefix = name.startsWith("sha256:") ? name : "sha256:" + name;
            List<ImageView> found = images.stream().filter(v -> v.id.startsWith(prefix)).toList();
            if (found.size() == 1) {
                return new Resolved(found.get(0), null);
            }
        }
        throw DomainException.notFound("No such image: " + name);
    }

    /** Containers of the tenant that use an image ({@code runningOnly}: only those running). */
    public Uni<Set<String>> users(String tenant, String imageId, boolean runningOnly) {
        String sql = "select container_id from image_user where tenant = :tenant and image_id = :image"
                + (runningOnly ? " and running" : "");
        return sessions.withSession(s -> s.createNativeQuery(sql, String.class)
                        .setParameter("tenant", tenant).setParameter("image", imageId).getResultList())
                .map(LinkedHashSet::new);
    }

    /** Every image id of the tenant that some container uses. */
    public Uni<Set<String>> usedImages(String tenant) {
        return sessions.withSession(s -> s.createNativeQuery(
                        "select distinct image_id from image_user where tenant = :tenant", String.class)
                .setParameter("tenant", tenant).getResultList()).map(LinkedHashSet::new);
    }

    /** Whether an image of the tenant references the blob (the registry API serves nothing else). */
    public Uni<Boolean> visible(String tenant, String digest) {
        return sessions.withSession(s -> s.createNativeQuery(
                        "select count(*) from image_blob where tenant = :tenant and digest = :digest", Long.class)
                .setParameter("tenant", tenant).setParameter("digest", digest).getSingleResult()).map(n -> n > 0);
    }

    /** The tenant's image whose manifest has this digest, or null. */
    public Uni<ImageView> byManifest(String tenant, String digest) {
        return sessions.withSession(s -> s.createQuery(
                        "from ImageView i where i.tenant = :tenant and i.manifestDigest = :digest", ImageView.class)
                .setParameter("tenant", tenant).setParameter("digest", digest).getResultList())
                .map(rows -> rows.isEmpty() ? null : rows.get(0));
    }

    /**
     * Deletes those of these blob files that nothing references any more (after a removal, or after an append that
     * failed once its blobs were in place): no image of any tenant, no registry upload, no build cache entry and no
     * live lease of an operation in flight. See {@link BlobCollector}.
     */
    public Uni<Void> collect(Collection<String> digests) {
        return reclaim(digests).replaceWithVoid();
    }

    /** {@link #collect}, answering the bytes it freed (what {@code SpaceReclaimed} reports). */
    public Uni<Long> reclaim(Collection<String> digests) {
        List<String> candidates = new ArrayList<>(new LinkedHashSet<>(digests));
        if (candidates.isEmpty()) {
            return Uni.createFrom().item(0L);
        }
        return Uni.createFrom().item(() -> collector.collect(candidates).bytesReclaimed())
                .runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    /** The digests of every blob an image references. */
    public static List<String> digests(ImageEvent.ImageAdded image) {
        List<String> out = new ArrayList<>();
        out.add(image.configDigest());
        out.add(image.manifestDigest());
        image.layers().forEach(l -> out.add(l.digest()));
        return out;
    }

    /** The digests of every blob a read-model row references. */
    public static List<String> digests(ImageView v) {
        List<String> out = new ArrayList<>();
        out.add(v.id);
        out.add(v.manifestDigest);
        ImageRows.layers(v.layersJson).forEach(l -> out.add(l.digest()));
        return out;
    }
}
