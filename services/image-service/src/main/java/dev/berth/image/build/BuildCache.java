package dev.berth.image.build;

import dev.berth.events.EventCodec;
import dev.berth.image.domain.ImageEvent.Layer;
import dev.berth.image.projection.ImageRows;
import dev.berth.image.store.BlobStore;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The tenant's build cache (table {@code build_cache}): a step is reused when its parent image, its cache key and
 * the tenant match an earlier result whose layer blobs are all still stored.
 */
@ApplicationScoped
public class BuildCache {

    /** A cached step result: the image config bytes and the layers. */
    public record Hit(String imageId, byte[] config, List<Layer> layers) {
    }

    private final Mutiny.SessionFactory sessions;
    private final BlobStore blobs;

    public BuildCache(Mutiny.SessionFactory sessions, BlobStore blobs) {
        this.sessions = sessions;
        this.blobs = blobs;
    }

    /** The cached result of a step, or null (never one whose layers are gone). */
    public Uni<Hit> find(String tenant, String parentId, String step) {
        return sessions.withSession(s -> s.createNativeQuery(
                        "select image_id, config, layers_json from build_cache where tenant = :tenant"
                                + " and parent_id = :parent and step_key = :key", Object[].class)
                .setParameter("tenant", tenant).setParameter("parent", parentId)
                .setParameter("key", BlobStore.digest(step.getBytes(StandardCharsets.UTF_8)))
                .getResultList()).map(rows -> {
                    if (rows.isEmpty()) {
                        return null;
                    }
                    Object[] r = rows.get(0);
                    List<Layer> layers = ImageRows.layers((String) r[2]);
                    for (Layer l : layers) {
                        if (!blobs.exists(l.digest())) {
                            return null;
                        }
                    }
                    return new Hit((String) r[0], ((String) r[1]).getBytes(StandardCharsets.UTF_8), layers);
                });
    }

    /**
     * Records a step result, replacing an older one for the same parent and key. Called before the step's new layer
     * is moved into the store, so the blob collector never sees that layer unreferenced.
     */
    public Uni<Void> put(String tenant, String parentId, String step, String imageId, byte[] config,
                         List<Layer> layers) {
        String key = BlobStore.digest(step.getBytes(StandardCharsets.UTF_8));
        Set<String> digests = new LinkedHashSet<>();
        layers.forEach(l -> digests.add(l.digest()));
        return sessions.withTransaction(s -> {
            Uni<Integer> chain = s.createNativeQuery("insert into build_cache (tenant, parent_id, step_key, step,"
                            + " image_id, config, layers_json) values (:tenant, :parent, :key, :step, :image, :config,"
                            + " :layers) on conflict (tenant, parent_id, step_key) do update set image_id ="
                            + " excluded.image_id, config = excluded.config, layers_json = excluded.layers_json,"
                            + " created_at = now()")
                    .setParameter("tenant", tenant).setParameter("parent", parentId).setParameter("key", key)
                    .setParameter("step", step).setParameter("image", imageId)
                    .setParameter("config", new String(config, StandardCharsets.UTF_8))
                    .setParameter("layers", EventCodec.toJson(layers)).executeUpdate();
            for (String d : digests) {
                chain = chain.chain(() -> s.createNativeQuery("insert into build_cache_blob (tenant, image_id, digest)"
                                + " values (:tenant, :image, :digest) on conflict do nothing")
                        .setParameter("tenant", tenant).setParameter("image", imageId).setParameter("digest", d)
                        .executeUpdate());
            }
            return chain.replaceWithVoid();
        });
    }

    /** What a prune asked for ({@code docker builder prune}). */
    public record PruneRequest(boolean all, long keepStorage, Instant until, Predicate<String> id) {
    }

    /**
     * What a prune removed: the step results (image ids without {@code sha256:}, the ids the build printed) and the
     * layer digests they held, for the blob collector to sweep.
     */
    public record Pruned(List<String> ids, Set<String> digests) {
    }

    /**
     * Removes cache entries of the tenant ({@code docker builder prune}). Without {@code all} only dangling entries
     * go: those that are neither an image of the tenant nor a step on the way to one (walking each entry's parent).
     * {@code until} keeps entries created after it; {@code id} selects by id; with {@code keepStorage} above zero the
     * oldest chosen entries go only until the cache's layers take at most that many bytes.
     */
    public Uni<Pruned> prune(String tenant, PruneRequest request) {
        return sessions.withTransaction(s -> s.createNativeQuery(
                        "select parent_id, step_key, image_id, layers_json,"
                                + " (extract(epoch from created_at) * 1000)::bigint from build_cache"
                                + " where tenant = :tenant", Object[].class)
                .setParameter("tenant", tenant).getResultList()
                .chain(rows -> s.createNativeQuery("select id, layers_json from image_view where tenant = :tenant",
                                Object[].class).setParameter("tenant", tenant).getResultList()
                        .chain(imageRows -> {
                            List<Entry> entries = rows.stream().map(r -> new Entry((String) r[0], (String) r[1],
                                    (String) r[2], ImageRows.layers((String) r[3]),
                                    Instant.ofEpochMilli(((Number) r[4]).longValue()))).toList();
                            Map<String, List<Layer>> images = new HashMap<>();
                            imageRows.forEach(r -> images.put((String) r[0], ImageRows.layers((String) r[1])));
                            List<Entry> chosen = choose(entries, images, request);
                            return delete(s, tenant, chosen);
                        })));
    }

    private record Entry(String parentId, String stepKey, String imageId, List<Layer> layers, Instant created) {
    }

    private static List<Entry> choose(List<Entry> entries, Map<String, List<Layer>> images, PruneRequest request) {
        Map<String, List<Entry>> byImage = new HashMap<>();
        entries.forEach(e -> byImage.computeIfAbsent(e.imageId(), k -> new ArrayList<>()).add(e));
        Set<Entry> inUse = new HashSet<>();
        if (!request.all()) {
            List<Entry> walk = new ArrayList<>();
            images.keySet().forEach(id -> walk.addAll(byImage.getOrDefault(id, List.of())));
            while (!walk.isEmpty()) {
                Entry e = walk.remove(walk.size() - 1);
                if (inUse.add(e)) {
                    walk.addAll(byImage.getOrDefault(e.parentId(), List.of()));
                }
            }
        }
        List<Entry> chosen = new ArrayList<>();
        for (Entry e : entries) {
            if (!inUse.contains(e) && (request.until() == null || e.created().isBefore(request.until()))
                    && request.id().test(e.imageId().substring(7))) {
                chosen.add(e);
            }
        }
        if (request.keepStorage() <= 0) {
            return chosen;
        }
        long total = 0;
        Map<Entry, Long> sizes = new HashMap<>();
        for (Entry e : entries) {
            long size = ownSize(e, byImage, images);
            sizes.put(e, size);
            total += size;
        }
        chosen.sort(Comparator.comparing(Entry::created));
        List<Entry> out = new ArrayList<>();
        for (Entry e : chosen) {
            if (total <= request.keepStorage()) {
                break;
            }
            out.add(e);
            total -= sizes.get(e);
        }
        return out;
    }

    /** The bytes of the layers a step added over its parent (its last layer when the parent is unknown). */
    private static long ownSize(Entry e, Map<String, List<Entry>> byImage, Map<String, List<Layer>> images) {
        List<Layer> parent = byImage.containsKey(e.parentId()) ? byImage.get(e.parentId()).get(0).layers()
                : images.get(e.parentId());
        if (parent == null) {
            return e.layers().isEmpty() ? 0 : e.layers().get(e.layers().size() - 1).size();
        }
        Set<String> below = new HashSet<>();
        parent.forEach(l -> below.add(l.digest()));
        return e.layers().stream().filter(l -> !below.contains(l.digest())).mapToLong(Layer::size).sum();
    }

    private static Uni<Pruned> delete(Mutiny.Session s, String tenant, List<Entry> chosen) {
        Set<String> ids = new LinkedHashSet<>();
        Set<String> digests = new LinkedHashSet<>();
        Uni<Integer> chain = Uni.createFrom().item(0);
        for (Entry e : chosen) {
            ids.add(e.imageId());
            e.layers().forEach(l -> digests.add(l.digest()));
            chain = chain.chain(() -> s.createNativeQuery("delete from build_cache where tenant = :tenant"
                            + " and parent_id = :parent and step_key = :key")
                    .setParameter("tenant", tenant).setParameter("parent", e.parentId())
                    .setParameter("key", e.stepKey()).executeUpdate());
        }
        if (!ids.isEmpty()) {
            // an image id may be the result of several entries: its layers stay held while one of them is left
            chain = chain.chain(() -> s.createNativeQuery("delete from build_cache_blob b where b.tenant = :tenant"
                            + " and b.image_id in (:ids) and not exists (select 1 from build_cache c"
                            + " where c.tenant = b.tenant and c.image_id = b.image_id)")
                    .setParameter("tenant", tenant).setParameter("ids", List.copyOf(ids)).executeUpdate());
        }
        return chain.map(n -> new Pruned(ids.stream().map(id -> id.substring(7)).toList(), digests));
    }
}
