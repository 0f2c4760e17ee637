package dev.berth.image.build;

import dev.berth.events.EventCodec;
import dev.berth.image.domain.ImageEvent.Layer;
import dev.berth.image.projection.ImageRows;
import dev.berth.image.store.BlobStore;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

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
}
