package dev.berth.node.snapshot;

import dev.berth.node.nativeio.Errno;
import dev.berth.node.nativeio.Libc;
import dev.berth.node.nativeio.LinuxException;
import dev.berth.node.snapshot.Snapshotter.LayerException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies the entries of one layer tar to an empty directory (the layer's diff), keeping tar semantics exactly and
 * turning AUFS whiteouts into overlay ones.
 *
 * <p>Confinement: the directory is private to this unpack (a temporary directory nobody else writes), so the only
 * symlinks in it are those the tar itself created. Every entry's path is resolved component by component with
 * lstat; a {@code ..} that climbs above the layer, a path that passes through a symlink, a hard link to something
 * outside the layer, or a relative symlink whose target climbs out of the layer is refused (Docker refuses the
 * latter two the same way; it relies on chroot for the second, which a JVM cannot do).
 */
final class LayerUnpacker {
    static final String WHITEOUT_PREFIX = ".wh.";
    static final String WHITEOUT_META_PREFIX = ".wh..wh.";
    static final String OPAQUE_MARKER = ".wh..wh..opq";
    static final String OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque";
    private static final System.Logger LOG = System.getLogger(LayerUnpacker.class.getName());

    private record DirTime(Path dir, long sec, long nsec) {
    }

    private final Path root;
    private final String layer;
    private final List<DirTime> dirTimes = new ArrayList<>();
    /**
     * Directories already checked (real directories, not symlinks) in this unpack: saves an lstat per path component
     * per entry. Cleared whenever a directory is removed, the only way a checked directory can stop being one.
     */
    private final Set<Path> knownDirs = new HashSet<>();
    private final byte[] buffer = new byte[64 * 1024];

    /**
     * @param root  the empty directory to fill
     * @param layer the layer's name for messages ("sha256:...")
     */
    LayerUnpacker(Path root, String layer) {
        this.root = root;
        this.layer = layer;
    }

    /** Applies every entry of the archive, then the directories' mtimes (their content is final only then). */
    void apply(TarReader tar) throws IOException {
        for (TarReader.Entry e = tar.next(); e != null; e = tar.next()) {
            applyEntry(e, tar);
        }
        for (DirTime d : dirTimes) {
            if (Files.isDirectory(d.dir(), LinkOption.NOFOLLOW_LINKS)) {
                Libc.lutimes(d.dir().toString(), d.sec(), d.nsec(), d.sec(), d.nsec());
            }
        }
    }

    private void applyEntry(TarReader.Entry e, TarReader tar) throws IOException {
        List<String> parts = clean(e.name(), List.of());
        if (parts.isEmpty()) {
            // The archive's own root ("./"): the diff directory keeps its mode, as Docker does.
            return;
        }
        for (int i = 0; i < parts.size(); i++) {
            String p = parts.get(i);
            if (p.startsWith(WHITEOUT_META_PREFIX) && !(i == parts.size() - 1 && p.equals(OPAQUE_MARKER))) {
                // AUFS bookkeeping (.wh..wh.plnk, .wh..wh.aufs, ...) has no meaning on overlay.
                return;
            }
        }
        String base = parts.get(parts.size() - 1);
        Path parent = resolveDir(parts.subList(0, parts.size() - 1), e.name(), true);
        if (base.equals(OPAQUE_MARKER)) {
            Libc.lsetxattr(parent.toString(), OVERLAY_OPAQUE_XATTR, new byte[]{'y'});
            return;
        }
        if (base.startsWith(WHITEOUT_PREFIX)) {
            String hidden = base.substring(WHITEOUT_PREFIX.length());
            if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
                throw refused(e.name(), "is not a valid whiteout");
            }
            Path path = parent.resolve(hidden);
            removeExisting(path, false);
            // An overlay whiteout: a character device 0/0.
            Libc.mknod(path.toString(), Libc.S_IFCHR, Libc.makedev(0, 0));
            Libc.lchown(path.toString(), e.uid(), e.gid());
            return;
        }
        Path path = parent.resolve(base);
        String p = path.toString();
        removeExisting(path, e.isDir());
        switch (e.type()) {
            case '5' -> {
                if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectory(path);
                }
            }
            case '0', '\0', '7' -> writeFile(path, e, tar);
            case '2' -> {
                checkSymlinkTarget(parts, e);
                Libc.symlink(e.linkName(), p);
            }
            case '1' -> Libc.link(hardlinkTarget(e).toString(), p);
            case '3' -> Libc.mknod(p, Libc.S_IFCHR | e.mode(), Libc.makedev(e.devMajor(), e.devMinor()));
            case '4' -> Libc.mknod(p, Libc.S_IFBLK | e.mode(), Libc.makedev(e.devMajor(), e.devMinor()));
            case '6' -> Libc.mknod(p, Libc.S_IFIFO | e.mode(), 0);
            default -> throw new LayerException("layer " + layer + ": entry \"" + e.name() + "\" has the unsupported tar type '"
                    + e.type() + "'");
        }
        if (e.type() == '1') {
            // A hard link shares the inode: owner, mode and times are the target's.
            return;
        }
        // Order matters: chown clears setuid/setgid and file capabilities, so xattrs and mode come after it.
        Libc.lchown(p, e.uid(), e.gid());
        for (Map.Entry<String, byte[]> x : e.xattrs().entrySet()) {
            setXattr(p, e.name(), x.getKey(), x.getValue());
        }
        if (e.type() != '2') {
            Libc.chmod(p, e.mode());
        }
        if (e.isDir()) {
            dirTimes.add(new DirTime(path, e.mtimeSec(), e.mtimeNsec()));
        } else {
            Libc.lutimes(p, e.mtimeSec(), e.mtimeNsec(), e.mtimeSec(), e.mtimeNsec());
        }
    }

    private void writeFile(Path path, TarReader.Entry e, TarReader tar) throws IOException {
        // CREATE_NEW never follows a symlink at the last component (O_EXCL).
        try (OutputStream out = Files.newOutputStream(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long left = e.size();
            while (left > 0) {
                int n = tar.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    break;
                }
                out.write(buffer, 0, n);
                left -= n;
            }
        }
    }

    private void setXattr(String path, String entry, String name, byte[] value) throws IOException {
        if (name.startsWith("trusted.overlay.")) {
            // Overlay's own bookkeeping must not come from an image: it could redirect lookups or fake opaqueness.
            // Opaque directories are expressed with .wh..wh..opq.
            LOG.log(System.Logger.Level.WARNING, "layer {0}: ignoring xattr {1} of {2}", layer, name, entry);
            return;
        }
        try {
            Libc.lsetxattr(path, name, value);
        } catch (LinuxException ex) {
            if (ex.errno() == Errno.EOPNOTSUPP || ex.errno() == Errno.EPERM) {
                // As Docker does: a filesystem or inode type without support for this namespace (user.* on a symlink).
                LOG.log(System.Logger.Level.WARNING, "layer {0}: {1}", layer, ex.getMessage());
                return;
            }
            throw ex;
        }
    }

    private void checkSymlinkTarget(List<String> parts, TarReader.Entry e) throws LayerException {
        String target = e.linkName();
        if (target.isEmpty()) {
            throw refused(e.name(), "is a symlink without a target");
        }
        if (target.startsWith("/")) {
            // Absolute targets are resolved inside the container's root at run time; they cannot escape here
            // because no entry is ever written through a symlink.
            return;
        }
        try {
            clean(target, parts.subList(0, parts.size() - 1));
        } catch (LayerException ex) {
            throw refused(e.name(), "is a symlink to \"" + target + "\", which points outside the layer");
        }
    }

    private Path hardlinkTarget(TarReader.Entry e) throws IOException {
        List<String> parts;
        try {
            parts = clean(e.linkName(), List.of());
        } catch (LayerException ex) {
            throw refused(e.name(), "is a hard link to \"" + e.linkName() + "\", which is outside the layer");
        }
        if (parts.isEmpty()) {
            throw refused(e.name(), "is a hard link to the layer's root");
        }
        Path dir = resolveDir(parts.subList(0, parts.size() - 1), e.name(), false);
        Path target = dir.resolve(parts.get(parts.size() - 1));
        BasicFileAttributes a = lstat(target);
        if (a == null) {
            throw refused(e.name(), "is a hard link to \"" + e.linkName() + "\", which is not in this layer");
        }
        if (a.isDirectory()) {
            throw refused(e.name(), "is a hard link to the directory \"" + e.linkName() + "\"");
        }
        return target;
    }

    /**
     * The directory for {@code parts} below the root, walking each component without following symlinks; missing
     * ones are created (0755, root-owned, as Docker does) when {@code create}.
     */
    private Path resolveDir(List<String> parts, String entry, boolean create) throws IOException {
        Path dir = root;
        for (String part : parts) {
            Path next = dir.resolve(part);
            if (knownDirs.contains(next)) {
                dir = next;
                continue;
            }
            BasicFileAttributes a = lstat(next);
            if (a == null) {
                if (!create) {
                    throw refused(entry, "refers to \"" + root.relativize(next) + "\", which is not in this layer");
                }
                Files.createDirectory(next);
                Libc.chmod(next.toString(), 0755);
            } else if (a.isSymbolicLink()) {
                throw refused(entry, "passes through the symlink \"" + root.relativize(next)
                        + "\"; a layer entry may not be written through a symlink");
            } else if (!a.isDirectory()) {
                throw refused(entry, "needs \"" + root.relativize(next) + "\" to be a directory, but it is not");
            }
            knownDirs.add(next);
            dir = next;
        }
        return dir;
    }

    /** As Docker: an existing entry is replaced, except a directory by a directory (which is merged). */
    private void removeExisting(Path path, boolean keepDir) throws IOException {
        BasicFileAttributes a = lstat(path);
        if (a == null) {
            return;
        }
        if (a.isDirectory()) {
            if (!keepDir) {
                knownDirs.clear();
                FileTrees.deleteRecursively(path);
            }
        } else {
            Files.delete(path);
        }
    }

    private LayerException refused(String entry, String why) {
        return new LayerException("layer " + layer + ": entry \"" + entry + "\" " + why);
    }

    /**
     * The cleaned components of {@code name} relative to {@code base} ("." and empty parts dropped, ".." applied);
     * a ".." above the root is a path escape.
     */
    private List<String> clean(String name, List<String> base) throws LayerException {
        List<String> out = new ArrayList<>(base);
        for (String part : name.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (out.isEmpty()) {
                    throw new LayerException("layer " + layer + ": entry \"" + name + "\" escapes the layer directory");
                }
                out.remove(out.size() - 1);
            } else {
                out.add(part);
            }
        }
        return out;
    }

    static BasicFileAttributes lstat(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }
}
