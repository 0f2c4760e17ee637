package dev.berth.image.registry;

import dev.berth.image.persistence.ImageOperations;
import dev.berth.image.persistence.ImageService;
import dev.berth.image.store.BlobStore;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Blob uploads of the registry API: monolithic ({@code POST ?digest=}), and sessions that receive chunks
 * ({@code PATCH}) and end with {@code PUT ?digest=}. A session's bytes are in a file under the blob store's
 * {@code tmp/uploads}; the session itself is in memory, so a restart ends every session (clients start again, as
 * they do when a registry forgets an upload). A finished upload is checked against its digest and only then renamed
 * into the blob store; a mismatch or a cancel deletes the file. A session untouched for {@link #IDLE} is dropped
 * with its file when the next one starts, so abandoned uploads do not fill the disk. All methods block (worker
 * threads).
 */
@ApplicationScoped
@Startup
public class Uploads {

    /** How long a session may go without a request before it is dropped (distribution purges after days). */
    public static final Duration IDLE = Duration.ofHours(6);
    private static final Pattern RANGE = Pattern.compile("(?:bytes[ =])?(\\d+)-(\\d+)(?:/.*)?");

    private final BlobStore blobs;
    private final PushedBlobs pushed;
    private final ImageService images;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();

    public Uploads(BlobStore blobs, PushedBlobs pushed, ImageService images) {
        this.blobs = blobs;
        this.pushed = pushed;
        this.images = images;
        blobs.clearUploads();
    }

    /** An upload in progress: whose it is, where its bytes are, how many arrived. */
    public static final class Session {
        private final String id;
        private final String tenant;
        private final String repository;
        private final Path file;
        private long offset;
        private Instant touched = Instant.now();

        Session(String id, String tenant, String repository, Path file) {
            this.id = id;
            this.tenant = tenant;
            this.repository = repository;
            this.file = file;
        }

        public String id() {
            return id;
        }

        public String repository() {
            return repository;
        }

        /** Bytes received so far. */
        public synchronized long offset() {
            return offset;
        }

        /** The {@code Range} header value the spec wants: {@code 0-<last byte>}, {@code 0-0} when empty. */
        public synchronized String range() {
            return "0-" + Math.max(0, offset - 1);
        }
    }

    /** Opens a session for the tenant's repository. */
    public Session start(String tenant, String repository) {
        Instant limit = Instant.now().minus(IDLE);
        for (Session idle : sessions.values()) {
            synchronized (idle) {
                if (idle.touched.isBefore(limit)) {
                    close(idle);
                }
            }
        }
        String id = UUID.randomUUID().toString();
        Session s = new Session(id, tenant, repository, blobs.uploadFile(id));
        sessions.put(id, s);
        return s;
    }

    /**
     * The tenant's session with this id.
     *
     * @throws RegistryException 404 BLOB_UPLOAD_UNKNOWN when there is none (finished, cancelled, another tenant's)
     */
    public Session get(String tenant, String id) {
        Session s = sessions.get(id);
        if (s == null || !s.tenant.equals(tenant)) {
            throw RegistryException.uploadUnknown(id);
        }
        synchronized (s) {
            s.touched = Instant.now();
        }
        return s;
    }

    /**
     * Appends a chunk.
     *
     * @param contentRange the {@code Content-Range} header, or null for a streamed chunk that follows the last
     * @throws RegistryException 416 REQUESTED_RANGE_NOT_SATISFIABLE when the range does not start where the upload
     *                           ends or does not match the chunk's length (the chunk is not kept)
     */
    public void append(Session s, InputStream body, String contentRange) {
        synchronized (s) {
            requireOpen(s);
            long start = s.offset;
            long expected = -1;
            if (contentRange != null && !contentRange.isBlank()) {
                Matcher m = RANGE.matcher(contentRange.strip());
                if (!m.matches() || Long.parseLong(m.group(1)) != s.offset
                        || Long.parseLong(m.group(2)) < Long.parseLong(m.group(1))) {
                    throw outOfOrder(s, "chunk range " + contentRange + " does not start at " + s.offset);
                }
                expected = Long.parseLong(m.group(2)) - Long.parseLong(m.group(1)) + 1;
            }
            long written = write(s, body);
            if (expected >= 0 && written != expected) {
                truncate(s, start);
                throw outOfOrder(s, "chunk range " + contentRange + " announced " + expected + " bytes, " + written
                        + " arrived");
            }
            s.offset = start + written;
        }
    }

    /**
     * Ends a session: appends the last chunk (may be empty), checks the digest and puts the blob in place.
     *
     * @throws RegistryException 400 DIGEST_INVALID when the digest is missing, malformed or not the content's (the
     *                           session and its bytes are gone then too)
     */
    public void finish(Session s, InputStream body, String digest) {
        synchronized (s) {
            requireOpen(s);
            try {
                if (body != null) {
                    s.offset += write(s, body);
                }
                if (!BlobStore.isDigest(digest)) {
                    throw RegistryException.digestInvalid("provided digest is missing or not a sha256 digest", digest);
                }
                String actual = BlobStore.digestOf(s.file);
                if (!actual.equals(digest)) {
                    throw RegistryException.digestInvalid("provided digest did not match uploaded content", digest);
                }
                place(s.tenant, new BlobStore.Staged(s.file, digest, s.offset, s.offset));
            } finally {
                close(s);
            }
        }
    }

    /** Cancels a session and deletes its bytes. */
    public void cancel(Session s) {
        synchronized (s) {
            requireOpen(s);
            close(s);
        }
    }

    /**
     * A monolithic upload: the whole blob in one request.
     *
     * @throws RegistryException 400 DIGEST_INVALID when the content does not have the digest (nothing is kept)
     */
    public void monolithic(String tenant, InputStream body, String digest) {
        if (!BlobStore.isDigest(digest)) {
            throw RegistryException.digestInvalid("provided digest is not a sha256 digest", digest);
        }
        BlobStore.Staged staged = blobs.stageRaw(body);
        try {
            if (!staged.digest().equals(digest)) {
                throw RegistryException.digestInvalid("provided digest did not match uploaded content", digest);
            }
            place(tenant, staged);
        } finally {
            blobs.discard(staged);
        }
    }

    /**
     * Makes a blob the tenant can already see visible again for a mount (nothing to copy: blobs are shared files).
     *
     * @return whether the tenant may read the blob and its file is there
     */
    public boolean mount(String tenant, String digest) {
        if (!BlobStore.isDigest(digest)) {
            return false;
        }
        return Boolean.TRUE.equals(ImageOperations.await(() -> pushed.visible(tenant, digest))) && blobs.exists(digest);
    }

    private void place(String tenant, BlobStore.Staged staged) {
        ImageOperations.await(() -> pushed.record(tenant, staged.digest()));
        try {
            blobs.commit(staged);
        } catch (RuntimeException e) {
            ImageOperations.await(() -> pushed.forget(tenant, staged.digest())
                    .chain(() -> images.collect(List.of(staged.digest()))));
            throw e;
        }
    }

    private long write(Session s, InputStream body) {
        long start = s.offset;
        try (FileChannel ch = FileChannel.open(s.file, StandardOpenOption.WRITE)) {
            ch.position(start);
            OutputStream out = Channels.newOutputStream(ch);
            long n = body.transferTo(out);
            out.flush();
            return n;
        } catch (IOException e) {
            truncate(s, start);
            throw new UncheckedIOException("upload " + s.id + ": chunk lost: " + e.getMessage(), e);
        }
    }

    private static void truncate(Session s, long size) {
        try (FileChannel ch = FileChannel.open(s.file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        } catch (IOException e) {
            throw new UncheckedIOException("upload " + s.id + ": cannot drop a bad chunk", e);
        }
    }

    private static RegistryException outOfOrder(Session s, String reason) {
        return new RegistryException(416, "BLOB_UPLOAD_INVALID", "blob upload invalid", Map.of("reason", reason),
                Map.of("Range", s.range(), "Location", location(s), "Docker-Upload-UUID", s.id));
    }

    /** Where a session is continued, relative to the registry's root (clients resolve it against their request). */
    public static String location(Session s) {
        return "/v2/" + s.repository + "/blobs/uploads/" + s.id;
    }

    private void requireOpen(Session s) {
        if (sessions.get(s.id) != s) {
            throw RegistryException.uploadUnknown(s.id);
        }
    }

    private void close(Session s) {
        sessions.remove(s.id, s);
        try {
            Files.deleteIfExists(s.file);
        } catch (IOException ignored) {
            // a leftover upload file is never served and is removed at the next start
        }
    }
}
