package dev.berth.image.store;

import dev.berth.events.DomainException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Content-addressed blobs (layers, configs, manifests) under {@code <root>/blobs/sha256/<hex>}. Every blob is first
 * written to {@code <root>/tmp} and renamed into place once its digest is known, so a blob path never holds partial
 * or unverified content and a failed upload leaves nothing behind but what {@link #discard} removes.
 *
 * <p>Layers are stored as uncompressed tars: a gzip upload is decompressed on the way in, so a layer's blob digest is
 * its diff id and node agents can verify and unpack it without knowing how it was uploaded.
 *
 * <p>Files under {@code tmp} that an operation of this process still needs (staged blobs, upload session files, build
 * directories) are <em>held</em>: {@link #sweepTmp} never removes them, whatever their age. Holding is in memory, so
 * one images root belongs to one image-service process; a restart leaves nothing held and the next sweep removes
 * what the previous run left once it is older than the grace period.
 */
@ApplicationScoped
public class BlobStore {

    private static final Pattern DIGEST = Pattern.compile("sha256:[a-f0-9]{64}");
    private final Path blobs;
    private final Path tmp;
    private final Set<Path> held = ConcurrentHashMap.newKeySet();

    public BlobStore(@ConfigProperty(name = "berth.images.root", defaultValue = "/var/lib/berth/images") Path root) {
        this.blobs = root.resolve("blobs").resolve("sha256");
        this.tmp = root.resolve("tmp");
    }

    /** A blob written to a temporary file and not yet visible. */
    public record Staged(Path file, String digest, long size, long contentSize) {
    }

    /** Whether the string is a {@code sha256:<64 hex>} digest. */
    public static boolean isDigest(String digest) {
        return digest != null && DIGEST.matcher(digest).matches();
    }

    /** The path a blob lives at (it may not exist). */
    public Path path(String digest) {
        if (!isDigest(digest)) {
            throw new IllegalArgumentException("not a sha256 digest: " + digest);
        }
        return blobs.resolve(digest.substring(7));
    }

    public boolean exists(String digest) {
        return isDigest(digest) && Files.isRegularFile(path(digest));
    }

    /**
     * Reads a layer (a tar, plain or gzip) to a temporary file as an uncompressed tar, checking that it is a tar.
     *
     * @return the staged blob; {@code contentSize} is Docker's layer size (see {@link #contentSize})
     * @throws DomainException 400 when the stream is empty or not a tar archive (the temporary file is removed)
     */
    public Staged stageLayer(InputStream body) {
        Path file = tempFile();
        try (OutputStream out = Files.newOutputStream(file)) {
            TarRead read = readTar(body, out,
                    () -> DomainException.badRequest("invalid tar archive: the archive is empty"));
            out.flush();
            return new Staged(file, read.digest(), read.plainBytes(), read.contentSize());
        } catch (IOException e) {
            deleteQuietly(file);
            throw DomainException.badRequest("invalid tar archive: " + e.getMessage());
        } catch (RuntimeException e) {
            deleteQuietly(file);
            throw e;
        }
    }

    /** Writes bytes (a config, a manifest) to a temporary file. */
    public Staged stageBytes(byte[] content) {
        Path file = tempFile();
        try {
            Files.write(file, content);
        } catch (IOException e) {
            deleteQuietly(file);
            throw new UncheckedIOException(e);
        }
        return new Staged(file, digest(content), content.length, content.length);
    }

    /** Copies a stream as it is to a temporary file, digesting it (an archive member of unknown kind). */
    public Staged stageRaw(InputStream in) {
        Path file = tempFile();
        try (OutputStream out = new DigestOutputStream(Files.newOutputStream(file), sha256())) {
            long n = in.transferTo(out);
            out.flush();
            String digest = "sha256:" + HexFormat.of().formatHex(((DigestOutputStream) out).getMessageDigest().digest());
            return new Staged(file, digest, n, n);
        } catch (IOException e) {
            deleteQuietly(file);
            throw new UncheckedIOException(e);
        }
    }

    /** Makes a staged blob visible at its digest's path (a blob already there is kept: same digest, same bytes). */
    public void commit(Staged staged) {
        Path target = path(staged.digest());
        release(staged.file());
        try {
            Files.createDirectories(blobs);
            if (Files.exists(target)) {
                Files.deleteIfExists(staged.file());
                return;
            }
            try {
                Files.move(staged.file(), target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(staged.file(), target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store blob " + staged.digest() + " at " + target, e);
        }
    }

    /**
     * An entry's share of Docker's layer size, which dockerd takes from the unpacked files' lstat sizes: a regular
     * file's length, a symbolic link's target length; directories, devices and hard links (counted once, at their
     * first name) add nothing.
     */
    static long contentSize(TarArchiveEntry entry) {
        if (entry.isSymbolicLink()) {
            return entry.getLinkName().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        }
        return entry.isFile() && !entry.isLink() ? entry.getSize() : 0;
    }

    /** What is inside a stored layer blob: the digest of the (uncompressed) tar and Docker's size of it. */
    public record LayerContent(String diffId, long contentSize) {
    }

    /**
     * Reads a stored layer (plain or gzip tar) without keeping anything, as a registry push needs to check the diff
     * ids a config lists against the layers a manifest names.
     *
     * @throws DomainException 400 when the blob is not a tar or a gzip of one
     */
    public LayerContent describeLayer(String digest) {
        try (InputStream file = Files.newInputStream(path(digest))) {
            TarRead read = readTar(file, OutputStream.nullOutputStream(),
                    () -> DomainException.badRequest("layer " + digest + " is empty, not a tar archive"));
            // a tar is whole 512-byte blocks; the tar reader takes a short stream of anything for an empty archive,
            // where Go's (a registry's, dockerd's) fails with an unexpected EOF
            if (read.plainBytes() % 512 != 0) {
                throw DomainException.badRequest("layer " + digest + " is not a tar archive: " + read.plainBytes()
                        + " bytes, not whole 512-byte blocks");
            }
            return new LayerContent(read.digest(), read.contentSize());
        } catch (IOException e) {
            throw DomainException.badRequest("layer " + digest + " is not a tar archive: " + e.getMessage());
        }
    }

    /**
     * A fresh file for a registry upload session, under {@code <root>/tmp/uploads}: on the blobs' filesystem so that
     * {@link #commit} of the finished upload is a rename. Sessions live only in memory, so {@link #clearUploads} at
     * start removes what a previous run left.
     */
    public Path uploadFile(String sessionId) {
        Path dir = tmp.resolve("uploads");
        try {
            Files.createDirectories(dir);
            return hold(Files.createFile(dir.resolve(sessionId)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create an upload file in " + dir, e);
        }
    }

    /** Removes every upload file (no session survives a restart). */
    public void clearUploads() {
        Path dir = tmp.resolve("uploads");
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var files = Files.list(dir)) {
            files.forEach(BlobStore::deleteQuietly);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /** The sha256 digest of a file's content. */
    public static String digestOf(Path file) {
        MessageDigest sha = sha256();
        try (InputStream in = Files.newInputStream(file);
             OutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), sha)) {
            in.transferTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return "sha256:" + HexFormat.of().formatHex(sha.digest());
    }

    /** Removes a staged blob that will not be committed. */
    public void discard(Staged staged) {
        if (staged != null) {
            deleteQuietly(staged.file());
            release(staged.file());
        }
    }

    /**
     * Keeps a file or directory under {@code tmp} from {@link #sweepTmp} until {@link #release}d (a build context, a
     * layer being written). Files this store creates in {@code tmp} are held already.
     *
     * @return the path
     */
    public Path hold(Path path) {
        held.add(path.toAbsolutePath().normalize());
        return path;
    }

    /** Lets {@link #sweepTmp} remove the path again once it is old (it may already be gone). */
    public void release(Path path) {
        held.remove(path.toAbsolutePath().normalize());
    }

    /** The digests of every blob file in the store, in no particular order. */
    public List<String> digests() {
        if (!Files.isDirectory(blobs)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(blobs)) {
            return files.map(f -> "sha256:" + f.getFileName()).filter(BlobStore::isDigest).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + blobs, e);
        }
    }

    /** A blob's size, or -1 when its file is not there. */
    public long sizeIfPresent(String digest) {
        try {
            return Files.size(path(digest));
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * Removes what lies in {@code tmp} (and in {@code tmp/uploads}) unheld and unmodified since {@code before}: what a
     * crashed operation or a previous run left behind.
     *
     * @return how many entries were removed
     */
    public int sweepTmp(Instant before) {
        held.removeIf(p -> !Files.exists(p));
        int removed = 0;
        for (Path dir : List.of(tmp, tmp.resolve("uploads"))) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            List<Path> entries = new ArrayList<>();
            try (Stream<Path> list = Files.list(dir)) {
                list.forEach(entries::add);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + dir, e);
            }
            for (Path entry : entries) {
                Path abs = entry.toAbsolutePath().normalize();
                if (entry.equals(tmp.resolve("uploads")) || isHeld(abs)) {
                    continue;
                }
                try {
                    BasicFileAttributes attrs = Files.readAttributes(entry, BasicFileAttributes.class,
                            java.nio.file.LinkOption.NOFOLLOW_LINKS);
                    if (attrs.lastModifiedTime().toInstant().isBefore(before)) {
                        deleteTree(entry);
                        removed++;
                    }
                } catch (IOException e) {
                    // gone meanwhile, or not removable now: the next sweep tries again
                }
            }
        }
        return removed;
    }

    private boolean isHeld(Path abs) {
        for (Path h : held) {
            if (h.startsWith(abs) || abs.startsWith(h)) {
                return true;
            }
        }
        return false;
    }

    private static void deleteTree(Path entry) throws IOException {
        if (Files.isDirectory(entry, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (Stream<Path> walk = Files.walk(entry)) {
                List<Path> all = walk.sorted(java.util.Comparator.reverseOrder()).toList();
                for (Path p : all) {
                    Files.deleteIfExists(p);
                }
            }
        } else {
            Files.deleteIfExists(entry);
        }
    }

    /** Deletes a committed blob; false when it was not there. */
    public boolean deleteIfPresent(String digest) {
        try {
            return Files.deleteIfExists(path(digest));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete blob " + digest, e);
        }
    }

    /** Deletes a committed blob (no error when it is already gone). */
    public void delete(String digest) {
        deleteQuietly(path(digest));
    }

    public long size(String digest) {
        try {
            return Files.size(path(digest));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public byte[] read(String digest) {
        try {
            return Files.readAllBytes(path(digest));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read blob " + digest, e);
        }
    }

    public static String digest(byte[] content) {
        return "sha256:" + HexFormat.of().formatHex(sha256().digest(content));
    }

    private Path tempFile() {
        try {
            Files.createDirectories(tmp);
            return hold(Files.createTempFile(tmp, "upload-", ".part"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary file in " + tmp, e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a leftover in tmp is harmless and never served
        }
    }

    /** What reading a layer tar found: the digest and length of the uncompressed tar, and Docker's content size. */
    private record TarRead(String digest, long plainBytes, long contentSize) {
    }

    /**
     * Reads a tar, plain or gzip'd, to its end (the end-of-archive blocks too), copying the uncompressed bytes to
     * {@code copy}.
     *
     * @throws IOException when it is not a tar (or not a gzip of one)
     */
    private static TarRead readTar(InputStream raw, OutputStream copy,
                                   java.util.function.Supplier<DomainException> empty) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, 65536);
        in.mark(4);
        int b1 = in.read();
        int b2 = in.read();
        in.reset();
        if (b1 < 0) {
            throw empty.get();
        }
        InputStream plain = b1 == 0x1f && b2 == 0x8b ? new GzipCompressorInputStream(in, true) : in;
        MessageDigest sha = sha256();
        Tee tee = new Tee(plain, new DigestOutputStream(copy, sha));
        long content = 0;
        TarArchiveInputStream tar = new TarArchiveInputStream(tee);
        TarArchiveEntry entry;
        while ((entry = tar.getNextEntry()) != null) {
            content += contentSize(entry);
            tar.transferTo(OutputStream.nullOutputStream());
        }
        // keep the end-of-archive blocks too, so a stored blob is the whole tar as sent
        tee.transferTo(OutputStream.nullOutputStream());
        return new TarRead("sha256:" + HexFormat.of().formatHex(sha.digest()), tee.count, content);
    }

    /** Copies everything read through it to an output, counting bytes. */
    private static final class Tee extends ObservedInputStream {
        private final OutputStream copy;
        long count;

        Tee(InputStream in, OutputStream copy) {
            super(in);
            this.copy = copy;
        }

        @Override
        protected void observe(byte[] b, int off, int n) throws IOException {
            copy.write(b, off, n);
            count += n;
        }
    }
}
