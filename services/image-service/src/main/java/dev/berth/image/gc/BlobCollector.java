package dev.berth.image.gc;

import dev.berth.image.store.BlobStore;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Mark and sweep of the blob store: a blob file is deleted when no image of any tenant ({@code image_blob}), no
 * registry upload awaiting its manifest ({@code pushed_blob}), no build cache entry ({@code build_cache_blob}) and no
 * live {@linkplain Leases lease} names it. Unheld files in {@code tmp} older than {@code berth.images.gc.tmp-grace}
 * go too, and so do uploads no manifest claimed within {@code berth.images.gc.upload-ttl}.
 *
 * <p>Each batch of candidates is decided and deleted inside one transaction holding the {@link Leases#GC_LOCK}
 * exclusively, the references read by a single statement (one snapshot: an image committed and its lease released
 * meanwhile is seen as one or the other, never as neither). The candidates are listed before the lock is taken, so a
 * blob renamed into place after the listing is never a candidate. A sweep stopped half-way has deleted only blobs
 * that nothing referenced.
 *
 * <p>Runs at start, every {@code berth.images.gc.interval}, and for the blobs a removal freed ({@link #collect}).
 * Blocking: call it from a worker thread.
 */
@ApplicationScoped
public class BlobCollector {

    /** What a sweep removed. */
    public record Sweep(List<String> deleted, long bytesReclaimed, int tmpRemoved) {
    }

    private static final Logger LOG = Logger.getLogger(BlobCollector.class);
    private static final int BATCH = 512;

    private final DataSource db;
    private final BlobStore blobs;
    private final GcConfig config;
    private ScheduledExecutorService timer;

    public BlobCollector(DataSource db, BlobStore blobs, GcConfig config) {
        this.db = db;
        this.blobs = blobs;
        this.config = config;
    }

    void start(@Observes StartupEvent ignored) {
        if (!config.periodic()) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "blob-collector");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            try {
                Sweep s = sweep();
                if (!s.deleted().isEmpty() || s.tmpRemoved() > 0) {
                    LOG.infof("blob collection: %d blobs (%d bytes) and %d temporary files removed",
                            s.deleted().size(), s.bytesReclaimed(), s.tmpRemoved());
                }
            } catch (RuntimeException e) {
                LOG.warnf("blob collection failed, next try in %s: %s", config.interval(), e.getMessage());
            }
        }, 0, config.interval().toMillis(), TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent ignored) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    /**
     * Sweeps the whole store: uploads no manifest claimed in time, then every unreferenced blob, stale temporary
     * files, and lease rows that lapsed.
     *
     * @throws IllegalStateException when the database cannot be reached (nothing more is deleted)
     */
    public Sweep sweep() {
        try (Connection c = db.getConnection();
             PreparedStatement expired = c.prepareStatement(
                     "delete from pushed_blob where pushed_at < now() - make_interval(secs => ?)")) {
            expired.setDouble(1, config.uploadTtl().toMillis() / 1000.0);
            expired.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot expire unclaimed uploads: " + e.getMessage(), e);
        }
        Sweep blobsSwept = collect(blobs.digests());
        int tmp = blobs.sweepTmp(Instant.now().minus(config.tmpGrace()));
        try (Connection c = db.getConnection();
             PreparedStatement lapsed = c.prepareStatement("delete from blob_lease where expires_at < now()")) {
            lapsed.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot remove lapsed blob leases: " + e.getMessage(), e);
        }
        return new Sweep(blobsSwept.deleted(), blobsSwept.bytesReclaimed(), tmp);
    }

    /**
     * Deletes those of the given blobs that nothing references (what a removal may have freed).
     *
     * @return the digests deleted by this call and their bytes (a blob another sweep deleted first is not counted)
     * @throws IllegalStateException when the database cannot be reached (the batch being decided is kept)
     */
    public Sweep collect(Collection<String> digests) {
        List<String> candidates = new ArrayList<>();
        for (String d : new LinkedHashSet<>(digests)) {
            if (BlobStore.isDigest(d) && blobs.exists(d)) {
                candidates.add(d);
            }
        }
        List<String> deleted = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < candidates.size(); i += BATCH) {
            List<String> batch = candidates.subList(i, Math.min(candidates.size(), i + BATCH));
            try (Connection c = db.getConnection()) {
                c.setAutoCommit(false);
                try {
                    try (PreparedStatement lock = c.prepareStatement("select pg_advisory_xact_lock(?)")) {
                        lock.setLong(1, Leases.GC_LOCK);
                        lock.execute();
                    }
                    List<String> unreferenced = new ArrayList<>();
                    try (PreparedStatement q = c.prepareStatement("select d from unnest(?::text[]) as d"
                            + " where not exists (select 1 from image_blob b where b.digest = d)"
                            + " and not exists (select 1 from pushed_blob p where p.digest = d)"
                            + " and not exists (select 1 from build_cache_blob k where k.digest = d)"
                            + " and not exists (select 1 from blob_lease l where l.digest = d"
                            + " and l.expires_at > now())")) {
                        q.setArray(1, c.createArrayOf("text", batch.toArray()));
                        try (ResultSet rs = q.executeQuery()) {
                            while (rs.next()) {
                                unreferenced.add(rs.getString(1));
                            }
                        }
                    }
                    // deleted while the lock is held: no lease can commit for these until they are gone
                    for (String d : unreferenced) {
                        long size = blobs.sizeIfPresent(d);
                        if (size >= 0 && blobs.deleteIfPresent(d)) {
                            deleted.add(d);
                            bytes += size;
                        }
                    }
                    c.commit();
                } catch (SQLException | RuntimeException e) {
                    c.rollback();
                    throw e;
                }
            } catch (SQLException e) {
                throw new IllegalStateException("blob collection failed: " + e.getMessage(), e);
            }
        }
        return new Sweep(List.copyOf(deleted), bytes, 0);
    }
}
