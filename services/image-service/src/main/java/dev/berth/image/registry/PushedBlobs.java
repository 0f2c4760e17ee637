package dev.berth.image.registry;

import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.util.Collection;
import java.util.List;

/**
 * Which blobs a tenant may read through the registry API: those of its images ({@code image_blob}) and those it
 * uploaded that no manifest has claimed yet ({@code pushed_blob}). A blob file is shared by every tenant that has
 * the same content; only these rows decide who sees it.
 */
@ApplicationScoped
public class PushedBlobs {

    private final Mutiny.SessionFactory sessions;

    public PushedBlobs(Mutiny.SessionFactory sessions) {
        this.sessions = sessions;
    }

    /** Whether the tenant may read the blob (its file may still be missing). */
    public Uni<Boolean> visible(String tenant, String digest) {
        return sessions.withSession(s -> s.createNativeQuery(
                        "select (exists (select 1 from image_blob where tenant = :tenant and digest = :digest))"
                                + " or (exists (select 1 from pushed_blob where tenant = :tenant and digest = :digest))",
                        Boolean.class)
                .setParameter("tenant", tenant).setParameter("digest", digest).getSingleResult());
    }

    /**
     * Records that the tenant uploaded the blob. Written before the blob file is put in place, so a collection
     * running meanwhile (it counts these rows) cannot delete the file under the upload. The row is written holding
     * the collector's lock shared (like a lease, see {@link dev.berth.image.gc.Leases}), so it commits either before a
     * sweep reads references or after it deleted: the caller's {@code BlobStore.commit} then finds the file gone and
     * puts the upload in place instead of relying on it.
     */
    public Uni<Void> record(String tenant, String digest) {
        return sessions.withTransaction(s -> s.createNativeQuery(
                        "select count(*) from (select pg_advisory_xact_lock_shared(:key)) as l", Long.class)
                .setParameter("key", dev.berth.image.gc.Leases.GC_LOCK).getSingleResult()
                .chain(() -> s.createNativeQuery(
                        "insert into pushed_blob (tenant, digest) values (:tenant, :digest)"
                                + " on conflict (tenant, digest) do update set pushed_at = now()")
                .setParameter("tenant", tenant).setParameter("digest", digest).executeUpdate())).replaceWithVoid();
    }

    /**
     * Forgets the uploads among these digests that an image of the tenant now holds (its {@code image_blob} rows
     * keep them visible and alive); the others stay, so a blob no image took is still there for the next manifest.
     */
    public Uni<Void> release(String tenant, Collection<String> digests) {
        if (digests.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return sessions.withTransaction(s -> s.createNativeQuery(
                        "delete from pushed_blob p where p.tenant = :tenant and p.digest in (:digests) and exists"
                                + " (select 1 from image_blob b where b.tenant = p.tenant and b.digest = p.digest)")
                .setParameter("tenant", tenant).setParameter("digests", List.copyOf(digests)).executeUpdate())
                .replaceWithVoid();
    }

    /** Forgets one upload (the blob file is then collected if nothing else references it). */
    public Uni<Void> forget(String tenant, String digest) {
        return sessions.withTransaction(s -> s.createNativeQuery(
                        "delete from pushed_blob where tenant = :tenant and digest = :digest")
                .setParameter("tenant", tenant).setParameter("digest", digest).executeUpdate()).replaceWithVoid();
    }

    /**
     * Keeps blobs as uploads of the tenant (as when they were pushed and no manifest had claimed them yet), in one
     * transaction. Used before an image is deleted through the registry API: its config and layers stay in the
     * tenant's repositories, as a registry keeps a deleted manifest's blobs until they are deleted themselves.
     */
    public Uni<Void> keep(String tenant, Collection<String> digests) {
        if (digests.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        List<String> distinct = List.copyOf(new java.util.LinkedHashSet<>(digests));
        return sessions.withTransaction(s -> {
            Uni<Integer> chain = Uni.createFrom().item(0);
            for (String digest : distinct) {
                chain = chain.chain(() -> s.createNativeQuery(
                                "insert into pushed_blob (tenant, digest) values (:tenant, :digest)"
                                        + " on conflict (tenant, digest) do update set pushed_at = now()")
                        .setParameter("tenant", tenant).setParameter("digest", digest).executeUpdate());
            }
            return chain;
        }).replaceWithVoid();
    }

    /**
     * Deletes the tenant's upload of a blob (a registry {@code DELETE} of the blob).
     *
     * @return whether the tenant had uploaded it (false: nothing was deleted)
     */
    public Uni<Boolean> remove(String tenant, String digest) {
        return sessions.withTransaction(s -> s.createNativeQuery(
                        "delete from pushed_blob where tenant = :tenant and digest = :digest")
                .setParameter("tenant", tenant).setParameter("digest", digest).executeUpdate()).map(n -> n > 0);
    }
}
