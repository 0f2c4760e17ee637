package dev.berth.node.api;

import dev.berth.node.nativeio.Libc;
import dev.berth.node.runtime.RuntimeFailure;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Files of a container's root filesystem for {@code docker cp}: stat, tar out and tar in. Paths are resolved inside
 * the root like a chroot would (absolute symlinks and {@code ..} stay inside), so an archive can never read or write
 * outside the container. For a running container the root is its process's {@code /proc/<pid>/root} (which shows its
 * binds and tmpfs), else the prepared rootfs.
 */
final class ContainerFiles {
    private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};
    private static final int MAX_LINKS = 40;

    private ContainerFiles() {
    }

    /** A path's {@code X-Docker-Container-Path-Stat}: name, size, mode (Go's FileMode bits), mtime, linkTarget. */
    record PathStat(String name, long size, long mode, String mtime, String linkTarget) {
    }

    /**
     * Resolves a container path under {@code root}.
     *
     * @param followLast whether a symlink as the last component is followed
     */
    static Path resolve(Path root, String path, boolean followLast) throws IOException {
        Deque<String> todo = new ArrayDeque<>(split(path));
        List<String> done = new ArrayList<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String c = todo.pollFirst();
            if (c.equals("..")) {
                if (!done.isEmpty()) {
                    done.remove(done.size() - 1);
                }
                continue;
            }
            Path p = join(root, done).resolve(c);
            boolean last = todo.isEmpty();
            if ((!last || followLast) && Files.isSymbolicLink(p)) {
                if (++links > MAX_LINKS) {
                    throw RuntimeFailure.badRequest("too many levels of symbolic links in " + path);
                }
                String target = Files.readSymbolicLink(p).toString();
                List<String> tc = split(target);
                for (int i = tc.size() - 1; i >= 0; i--) {
                    todo.addFirst(tc.get(i));
                }
                if (target.startsWith("/")) {
                    done.clear();
                }
                continue;
            }
            done.add(c);
        }
        return join(root, done);
    }

    private static Path join(Path root, List<String> parts) {
        Path p = root;
        for (String s : parts) {
            p = p.resolve(s);
        }
        return p;
    }

    private static List<String> split(String path) {
        List<String> out = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty() && !s.equals(".")) {
                out.add(s);
            }
        }
        return out;
    }

    /** Whether the client asked for a directory's contents, or to follow a final symlink ("dir/." or "dir/"). */
    private static boolean followsLast(String path) {
        return path.endsWith("/") || path.endsWith("/.");
    }

    static PathStat stat(Path root, String containerId, String path) throws IOException {
        Path p = existing(root, containerId, path);
        String name = split(path).isEmpty() ? "/" : split(path).get(split(path).size() - 1);
        boolean isRoot = p.equals(root);
        LinkOption[] opts = isRoot ? new LinkOption[0] : NOFOLLOW;
        int mode = (Integer) Files.getAttribute(p, "unix:mode", opts);
        long size = Files.isDirectory(p, opts) ? 4096 : (Long) Files.getAttribute(p, "unix:size", opts);
        FileTime mtime = Files.getLastModifiedTime(p, opts);
        String link = !isRoot && Files.isSymbolicLink(p) ? Files.readSymbolicLink(p).toString() : "";
        return new PathStat(name, size, goMode(mode), mtime.toInstant().toString(), link);
    }

    private static Path existing(Path root, String containerId, String path) throws IOException {
        if (path == null || path.isEmpty()) {
            throw RuntimeFailure.badRequest("path is required");
        }
        Path p = resolve(root, path, followsLast(path));
        if (!Files.exists(p, NOFOLLOW)) {
            throw RuntimeFailure.notFound("Could not find the file " + path + " in container " + containerId);
        }
        return p;
    }

    /** Go's os.FileMode of a st_mode. */
    static long goMode(int st) {
        long m = st & 0777;
        switch (st & 0170000) {
            case 0040000 -> m |= 1L << 31;
            case 0120000 -> m |= 1L << 27;
            case 0010000 -> m |= 1L << 25;
            case 0140000 -> m |= 1L << 24;
            case 0020000 -> m |= (1L << 26) | (1L << 21);
            case 0060000 -> m |= 1L << 26;
            default -> {
            }
        }
        if ((st & 04000) != 0) {
            m |= 1L << 23;
        }
        if ((st & 02000) != 0) {
            m |= 1L << 22;
        }
        if ((st & 01000) != 0) {
            m |= 1L << 20;
        }
        return m;
    }

    /** Writes a tar of the path (a directory recursively, with its base name as the top entry). */
    static void tar(Path root, String containerId, String path, OutputStream out) throws IOException {
        Path p = existing(root, containerId, path);
        String base = path.endsWith("/.") ? "" : (split(path).isEmpty() ? "" : p.getFileName().toString());
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        List<Path> all;
        if (Files.isDirectory(p, NOFOLLOW)) {
            try (Stream<Path> walk = Files.walk(p)) {
                all = walk.toList();
            }
        } else {
            all = List.of(p);
        }
        for (Path f : all) {
            String rel = p.relativize(f).toString();
            String name = base.isEmpty() ? rel : rel.isEmpty() ? base : base + "/" + rel;
            if (name.isEmpty()) {
                continue;
            }
            add(tar, f, name);
        }
        tar.finish();
        tar.flush();
    }

    private static void add(TarArchiveOutputStream tar, Path f, String name) throws IOException {
        int mode = (Integer) Files.getAttribute(f, "unix:mode", NOFOLLOW);
        int type = mode & 0170000;
        TarArchiveEntry e;
        switch (type) {
            case 0040000 -> e = new TarArchiveEntry(name + "/", TarConstants.LF_DIR);
            case 0120000 -> {
                e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
                e.setLinkName(Files.readSymbolicLink(f).toString());
            }
            case 0010000 -> e = new TarArchiveEntry(name, TarConstants.LF_FIFO);
            case 0020000, 0060000 -> {
                e = new TarArchiveEntry(name, type == 0020000 ? TarConstants.LF_CHR : TarConstants.LF_BLK);
                long rdev = (Long) Files.getAttribute(f, "unix:rdev", NOFOLLOW);
                e.setDevMajor((int) (((rdev >>> 32) & 0xfffff000L) | ((rdev >>> 8) & 0xfff)));
                e.setDevMinor((int) (((rdev >>> 12) & 0xffffff00L) | (rdev & 0xff)));
            }
            case 0100000 -> {
                e = new TarArchiveEntry(name, TarConstants.LF_NORMAL);
                e.setSize(Files.size(f));
            }
            default -> {
                return; // sockets are not archived
            }
        }
        e.setMode(mode & 07777);
        e.setUserId(((Number) Files.getAttribute(f, "unix:uid", NOFOLLOW)).longValue());
        e.setGroupId(((Number) Files.getAttribute(f, "unix:gid", NOFOLLOW)).longValue());
        e.setModTime(new Date(Files.getLastModifiedTime(f, NOFOLLOW).toMillis()));
        tar.putArchiveEntry(e);
        if (type == 0100000) {
            try (InputStream in = Files.newInputStream(f, NOFOLLOW)) {
                in.transferTo(tar);
            }
        }
        tar.closeArchiveEntry();
    }

    /**
     * Extracts a tar (plain or gzip) into a directory of the container. Owners become root (0:0) unless
     * {@code copyUidGid}, as {@code docker cp} does.
     *
     * @param noOverwriteDirNonDir refuse to replace a directory with a non-directory or the other way round
     */
    static void untar(Path root, String containerId, String path, InputStream body, boolean noOverwriteDirNonDir,
                      boolean copyUidGid) throws IOException {
        Path dir = existing(root, containerId, path);
        dir = !dir.equals(root) && Files.isSymbolicLink(dir) ? resolve(root, path, true) : dir;
        // the root of a running container is /proc/<pid>/root, a link to follow (Testcontainers copies to "/")
        if (!dir.equals(root) && !Files.isDirectory(dir, NOFOLLOW)) {
            throw RuntimeFailure.badRequest("extraction point is not a directory");
        }
        String dirInContainer = "/" + root.relativize(dir);
        BufferedInputStream in = new BufferedInputStream(body, 65536);
        in.mark(2);
        int b1 = in.read(), b2 = in.read();
        in.reset();
        InputStream raw = b1 == 0x1f && b2 == 0x8b ? new GZIPInputStream(in, 65536) : in;
        Map<Path, TarArchiveEntry> dirs = new LinkedHashMap<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(raw)) {
            for (TarArchiveEntry e; (e = tar.getNextEntry()) != null; ) {
                List<String> parts = split(e.getName());
                if (parts.isEmpty()) {
                    continue;
                }
                if (parts.contains("..")) {
                    throw RuntimeFailure.badRequest("invalid tar entry name " + e.getName() + ": it leaves the target");
                }
                String parentPath = dirInContainer + "/" + String.join("/", parts.subList(0, parts.size() - 1));
                Path parent = resolve(root, parentPath, true);
                Files.createDirectories(parent);
                Path target = parent.resolve(parts.get(parts.size() - 1));
                boolean exists = Files.exists(target, NOFOLLOW);
                boolean existingDir = exists && Files.isDirectory(target, NOFOLLOW);
                if (exists && noOverwriteDirNonDir && existingDir != e.isDirectory()) {
                    throw RuntimeFailure.badRequest("cannot overwrite " + (existingDir ? "directory" : "non-directory")
                            + " \"" + parentPath + "/" + target.getFileName() + "\" with "
                            + (existingDir ? "non-directory" : "directory"));
                }
                if (e.isDirectory()) {
                    if (!existingDir) {
                        Files.deleteIfExists(target);
                        Files.createDirectory(target);
                    }
                    dirs.put(target, e);
                    continue;
                }
                if (existingDir) {
                    throw RuntimeFailure.badRequest("cannot overwrite directory " + target.getFileName() + " with a file");
                }
                Files.deleteIfExists(target);
                if (e.isSymbolicLink()) {
                    Libc.symlink(e.getLinkName(), target.toString());
                } else if (e.isLink()) {
                    Path src = resolve(root, dirInContainer + "/" + e.getLinkName(), false);
                    Libc.link(src.toString(), target.toString());
                } else if (e.isCharacterDevice() || e.isBlockDevice()) {
                    Libc.mknod(target.toString(), (e.isCharacterDevice() ? Libc.S_IFCHR : Libc.S_IFBLK) | (e.getMode() & 07777),
                            Libc.makedev(e.getDevMajor(), e.getDevMinor()));
                } else if (e.isFIFO()) {
                    Libc.mkfifo(target.toString(), e.getMode() & 07777);
                } else {
                    try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                        tar.transferTo(out);
                    }
                }
                finish(target, e, copyUidGid);
            }
        } catch (FileSystemException e) {
            throw new IOException("extracting into " + path + " of container " + containerId + ": " + e.getMessage(), e);
        }
        for (Map.Entry<Path, TarArchiveEntry> d : dirs.entrySet()) {
            finish(d.getKey(), d.getValue(), copyUidGid);
        }
    }

    private static void finish(Path target, TarArchiveEntry e, boolean copyUidGid) throws IOException {
        int uid = copyUidGid ? (int) e.getLongUserId() : 0;
        int gid = copyUidGid ? (int) e.getLongGroupId() : 0;
        Libc.lchown(target.toString(), uid, gid);
        if (!e.isSymbolicLink()) {
            // after chown, which clears setuid/setgid bits
            Libc.chmod(target.toString(), e.getMode() & 07777);
        }
        Instant t = e.getModTime().toInstant();
        Libc.lutimes(target.toString(), t.getEpochSecond(), t.getNano(), t.getEpochSecond(), t.getNano());
    }

    static void requireExists(Path root) throws NoSuchFileException {
        if (!Files.isDirectory(root)) {
            throw new NoSuchFileException(root.toString());
        }
    }
}
