package dev.berth.image.build;

import dev.berth.image.store.BlobStore;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.HashSet;
import java.util.Set;

/**
 * Writes the layer tar of a step that needs no container (COPY, ADD, WORKDIR). Every entry's missing parent
 * directories come first: with the metadata the image below already gives them, or as new {@code 0755} directories
 * owned by the step's owner, as an overlay diff of the same change would hold them.
 */
final class LayerWriter implements AutoCloseable {

    private final Path file;
    private final TarArchiveOutputStream tar;
    private final ImageFiles below;
    private final int uid;
    private final int gid;
    private final Set<String> written = new HashSet<>();
    private final Date now = new Date();

    LayerWriter(Path workDir, ImageFiles below, int uid, int gid) {
        this.below = below;
        this.uid = uid;
        this.gid = gid;
        try {
            Files.createDirectories(workDir);
            this.file = Files.createTempFile(workDir, "layer-", ".tar");
            OutputStream out = Files.newOutputStream(file);
            this.tar = new TarArchiveOutputStream(out);
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a layer in " + workDir, e);
        }
    }

    /** Writes the directories leading to {@code path} (relative, clean) that are not written yet. */
    void parents(String path) throws IOException {
        int slash = path.indexOf('/');
        while (slash > 0) {
            directory(path.substring(0, slash), null);
            slash = path.indexOf('/', slash + 1);
        }
    }

    /**
     * Writes a directory entry once.
     *
     * @param header its metadata, or null to take the image's (or make a new {@code 0755} one)
     */
    void directory(String path, TarArchiveEntry header) throws IOException {
        if (!written.add(path)) {
            return;
        }
        parents(path);
        TarArchiveEntry e = new TarArchiveEntry(path + "/", TarArchiveEntry.LF_DIR);
        ImageFiles.Node existing = below == null ? null : below.get(path);
        if (existing != null && !existing.header().isDirectory() && !existing.header().isSymbolicLink()) {
            throw new BuildException(400, "cannot copy to non-directory: /" + path, null);
        }
        if (header != null) {
            copyMetadata(header, e);
        } else if (existing != null && existing.header().isDirectory()) {
            copyMetadata(existing.header(), e);
        } else {
            e.setMode(040755);
            e.setUserId(uid);
            e.setGroupId(gid);
            e.setModTime(now);
        }
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    /** Writes a regular file or a symbolic link (header's type), its content read from {@code content}. */
    void entry(String path, TarArchiveEntry header, InputStream content) throws IOException {
        parents(path);
        written.add(path);
        TarArchiveEntry e = header.isSymbolicLink() ? new TarArchiveEntry(path, TarArchiveEntry.LF_SYMLINK)
                : new TarArchiveEntry(path);
        copyMetadata(header, e);
        if (header.isSymbolicLink()) {
            e.setLinkName(header.getLinkName());
            tar.putArchiveEntry(e);
            tar.closeArchiveEntry();
            return;
        }
        e.setSize(header.getSize());
        tar.putArchiveEntry(e);
        long copied = content.transferTo(tar);
        if (copied != header.getSize()) {
            throw new IOException(path + " changed while it was copied");
        }
        tar.closeArchiveEntry();
    }

    /** Finishes the tar and stages it as a layer blob (not visible until committed). */
    BlobStore.Staged stage(BlobStore blobs) {
        try {
            tar.finish();
            tar.close();
            try (InputStream in = Files.newInputStream(file)) {
                return blobs.stageLayer(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a layer", e);
        } finally {
            close();
        }
    }

    @Override
    public void close() {
        try {
            tar.close();
        } catch (IOException ignored) {
            // already closed or broken: the file goes anyway
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a leftover in the build directory is removed with it
        }
    }

    private static void copyMetadata(TarArchiveEntry from, TarArchiveEntry to) {
        to.setMode(from.getMode());
        to.setUserId(from.getLongUserId());
        to.setGroupId(from.getLongGroupId());
        to.setUserName(from.getUserName());
        to.setGroupName(from.getGroupName());
        to.setModTime(from.getModTime());
    }
}
