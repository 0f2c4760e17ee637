package dev.berth.image.gc;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Leases on blobs (table {@code blob_lease}): what keeps a blob alive between the moment an operation writes or finds
 * it and the moment the event that references it commits.
 *
 * <p>Protocol, shared with {@link BlobCollector}: a lease is written in a transaction that holds the
 * {@linkplain #GC_LOCK collector's advisory lock} shared; the collector holds it exclusively while it reads references
 * and leases and deletes. So a lease commits either before a sweep reads (the sweep keeps the blob) or after it has
 * deleted (the holder finds the blob missing). A holder therefore checks whether a blob exists only after
 * {@link Lease#hold} has returned, and writes the blob again when it is gone.
 *
 * <p>Leases of open holders are renewed every third of {@code berth.images.gc.lease-ttl}; a lease that lapsed (its
 * holder stopped renewing) is never renewed again, since the collector may already have deleted what it named.
 */
@ApplicationScoped
public class Leases {

    /** The advisory lock key of blob collection ("berth-gc"): shared by lease writers, exclusive for the collector. */
    public static final long GC_LOCK = 0x6265727468_6763L;

    private static final Logger LOG = Logger.getLogger(Leases.class);

    private final DataSource db;
    private final GcConfig config;
    private final Set<UUID> open = ConcurrentHashMap.newKeySet();
    private ScheduledExecutorService renewer;

    public Leases(DataSource db, GcConfig config) {
        this.db = db;
        this.config = config;
    }

    void start(@Observes StartupEvent ignored) {
        long every = Math.max(1, config.leaseTtl().toMillis() / 3);
        renewer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "blob-lease-renewal");
            t.setDaemon(true);
            return t;
        });
        renewer.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent ignored) {
        if (renewer != null) {
            renewer.shutdownNow();
        }
    }

    /**
     * Opens a lease holding nothing yet. Close it once the operation's references are committed or it failed.
     *
     * @param purpose what holds it (build, pull, load...), stored for operators
     */
    public Lease open(String purpose) {
        return new Lease(UUID.randomUUID(), purpose);
    }

    /** One operation's lease; blocking, for worker threads. */
    public final class Lease implements AutoCloseable {
        private final UUID holder;
        private final String purpose;
        private final Set<String> digests = ConcurrentHashMap.newKeySet();

        private Lease(UUID holder, String purpose) {
            this.holder = holder;
            this.purpose = purpose;
        }

        public UUID holder() {
            return holder;
        }

        /**
         * Holds more digests. When this returns the lease is committed: from then on no sweep deletes these blobs
         * until {@link #close}, and whether a blob exists may be checked.
         *
         * @throws IllegalArgumentException for a string that is not a sha256 digest
         * @throws IllegalStateException when the database cannot be reached (the operation must fail: its blobs are
         *                               not protected)
         */
        public Lease hold(Collection<String> more) {
            Set<String> fresh = new LinkedHashSet<>();
            for (String d : more) {
                if (!dev.berth.image.store.BlobStore.isDigest(d)) {
                    throw new IllegalArgumentException("not a sha256 digest: " + d);
                }
                if (!digests.contains(d)) {
                    fresh.add(d);
                }
            }
            if (fresh.isEmpty()) {
                return this;
            }
            try (Connection c = db.getConnection()) {
                c.setAutoCommit(false);
                try {
                    lockShared(c);
                    try (PreparedStatement insert = c.prepareStatement("insert into blob_lease (holder, digest,"
                            + " purpose, expires_at) select ?, d, ?, now() + make_interval(secs => ?)"
                            + " from unnest(?::text[]) as d on conflict (holder, digest) do update"
                            + " set expires_at = excluded.expires_at")) {
                        insert.setObject(1, holder);
                        insert.setString(2, purpose);
                        insert.setDouble(3, config.leaseTtl().toMillis() / 1000.0);
                        insert.setArray(4, c.createArrayOf("text", fresh.toArray()));
                        insert.executeUpdate();
                    }
                    c.commit();
                } catch (SQLException e) {
                    c.rollback();
                    throw e;
                }
            } catch (SQLException e) {
                throw new IllegalStateException("cannot lease blobs for " + purpose + ": " + e.getMessage(), e);
            }
            digests.addAll(fresh);
            open.add(holder);
            return this;
        }

        /** {@link #hold(Collection)} of some digests. */
        public Lease hold(String... more) {
            return hold(List.of(more));
        }

        /** Releases every digest: the collector may delete those nothing else references. Never fails. */
        @Override
        public void close() {
            open.remove(holder);
            if (digests.isEmpty()) {
                return;
            }
            digests.clear();
            try (Connection c = db.getConnection();
                 PreparedStatement delete = c.prepareStatement("delete from blob_lease where holder = ?")) {
                delete.setObject(1, holder);
                delete.executeUpdate();
            } catch (SQLException e) {
                // the rows lapse on their own after the lease's time to live
                LOG.warnf("cannot release blob lease %s (%s): %s", holder, purpose, e.getMessage());
            }
        }
    }

    private void renew() {
        List<UUID> holders = List.copyOf(open);
        if (holders.isEmpty()) {
            return;
        }
        try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
                // under the shared lock and against the clock (not the transaction's start): a lease the collector
                // saw lapsed stays lapsed
                lockShared(c);
                try (PreparedStatement update = c.prepareStatement("update blob_lease set expires_at ="
                        + " clock_timestamp() + make_interval(secs => ?) where holder = any(?)"
                        + " and expires_at > clock_timestamp()")) {
                    update.setDouble(1, config.leaseTtl().toMillis() / 1000.0);
                    update.setArray(2, c.createArrayOf("uuid", holders.toArray()));
                    update.executeUpdate();
                }
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException | RuntimeException e) {
            LOG.warnf("cannot renew blob leases: %s", e.getMessage());
        }
    }

    /** Takes {@link #GC_LOCK} shared until the transaction of {@code c} ends: no sweep decides meanwhile. */
    private static void lockShared(Connection c) throws SQLException {
        try (PreparedStatement lock = c.prepareStatement("select pg_advisory_xact_lock_shared(?)")) {
            lock.setLong(1, GC_LOCK);
            lock.execute();
        }
    }
}
