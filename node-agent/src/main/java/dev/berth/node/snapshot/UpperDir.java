package dev.berth.node.snapshot;

import dev.berth.node.nativeio.Libc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One walk over a container's overlay upper directory, shared by the layer export and the change list so that both
 * see the same entries in the same order: per directory, names ordered by their UTF-8 bytes (the order of Go's
 * {@code filepath.Walk}, hence of Docker's layer tars), a directory before its contents, nothing followed through a
 * symlink.
 */
final class UpperDir {
    static final int S_IFMT = 0170000, S_IFSOCK = 0140000, S_IFLNK = 0120000, S_IFREG = 0100000,
            S_IFBLK = 0060000, S_IFDIR = 0040000, S_IFCHR = 0020000, S_IFIFO = 0010000;

    private UpperDir() {
    }

    /** An entry of the upper dir: its path relative to the upper dir (no leading or trailing slash) and its lstat. */
    record Entry(String name, Path file, Map<String, Object> attrs) {
        int mode() {
            return (Integer) attrs.get("mode");
        }

        int type() {
            return mode() & S_IFMT;
        }

        int uid() {
            return (Integer) attrs.get("uid");
        }

        int gid() {
            return (Integer) attrs.get("gid");
        }

        long size() {
            return (Long) attrs.get("size");
        }

        int nlink() {
            return (Integer) attrs.get("nlink");
        }

        /** Modification time in whole seconds, as Docker's archives store it. */
        long mtimeSeconds() {
            return Math.floorDiv(((FileTime) attrs.get("lastModifiedTime")).toMillis(), 1000);
        }

        FileTime mtime() {
            return (FileTime) attrs.get("lastModifiedTime");
        }

        int devMajor() {
            long rdev = (Long) attrs.get("rdev");
            return (int) (((rdev >>> 32) & 0xfffff000L) | ((rdev >>> 8) & 0xfff));
        }

        int devMinor() {
            long rdev = (Long) attrs.get("rdev");
            return (int) (((rdev >>> 12) & 0xffffff00L) | (rdev & 0xff));
        }

        boolean isDir() {
            return type() == S_IFDIR;
        }

        /**
         * Whether overlay recorded a deletion here: a 0/0 character device, or the zero-size file with
         * {@code trusted.overlay.whiteout} that overlay uses where the upper fs cannot hold such devices.
         */
        boolean whiteout() throws IOException {
            if (type() == S_IFCHR) {
                return devMajor() == 0 && devMinor() == 0;
            }
            return type() == S_IFREG && size() == 0
                    && Libc.lgetxattr(file.toString(), "trusted.overlay.whiteout") != null;
        }

        /** Whether this directory hides whatever the layers below have under the same path. */
        boolean opaque() throws IOException {
            if (!isDir()) {
                return false;
            }
            byte[] v = Libc.lgetxattr(file.toString(), LayerUnpacker.OVERLAY_OPAQUE_XATTR);
            return v != null && Arrays.equals(v, new byte[]{'y'});
        }
    }

    /** What the walk calls for each entry; returning false skips a directory's contents. */
    interface Visitor {
        boolean visit(Entry entry) throws IOException;
    }

    /**
     * Files the runtime makes in every container's root as mount points, never changes a process can make: the
     * files bind-mounted over /etc/hosts, /etc/hostname and /etc/resolv.conf (a write to them goes to the bound
     * file, and opening the image's file to mount over it copies it up unchanged), and /proc, /sys and /dev (their
     * content is a mounted filesystem). Docker keeps these in a per-container init layer below the writable one;
     * here they share the upper dir, so the walk leaves them out.
     */
    static final List<String> MOUNT_FILES = List.of("etc/hosts", "etc/hostname", "etc/resolv.conf");
    static final List<String> MOUNT_DIRS = List.of("dev", "proc", "sys");

    /**
     * The runtime's mount points present in the upper dir, and the directories (here: /etc) that are there only to
     * hold them: not opaque, nothing else of the container's in them, and the same mode and owner as the image's
     * (or, absent from the image, as the runtime makes them: 0755, root).
     */
    static Set<String> runtimeArtifacts(Path upper, ImageView image) throws IOException {
        Set<String> out = new HashSet<>();
        for (String f : MOUNT_FILES) {
            Map<String, Object> a = lstat(upper.resolve(f));
            if (a != null && ((Integer) a.get("mode") & S_IFMT) == S_IFREG) {
                out.add(f);
            }
        }
        for (String d : MOUNT_DIRS) {
            Map<String, Object> a = lstat(upper.resolve(d));
            if (a != null && ((Integer) a.get("mode") & S_IFMT) == S_IFDIR) {
                out.add(d);
            }
        }
        Set<String> parents = new TreeSet<>(Comparator.reverseOrder()); // deepest first
        for (String f : MOUNT_FILES) {
            for (int i = f.lastIndexOf('/'); i > 0; i = f.lastIndexOf('/', i - 1)) {
                parents.add(f.substring(0, i));
            }
        }
        for (String dir : parents) {
            Path p = upper.resolve(dir);
            Map<String, Object> a = lstat(p);
            if (a == null || ((Integer) a.get("mode") & S_IFMT) != S_IFDIR || new Entry(dir, p, a).opaque()) {
                continue;
            }
            boolean onlyArtifacts = true;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(p)) {
                for (Path child : ds) {
                    onlyArtifacts &= out.contains(dir + "/" + child.getFileName());
                }
            }
            Map<String, Object> inImage = image.lookup(dir);
            // without the image's directory to compare with, compare with the one the runtime makes (0755, root)
            Map<String, Object> expected = inImage != null ? inImage : Map.of("mode", S_IFDIR | 0755, "uid", 0, "gid", 0);
            if (onlyArtifacts && expected.get("mode").equals(a.get("mode")) && expected.get("uid").equals(a.get("uid"))
                    && expected.get("gid").equals(a.get("gid"))) {
                out.add(dir);
            }
        }
        return out;
    }

    /** Walks the upper dir, leaving out the {@code excluded} names and everything below them. */
    static void walk(Path upper, Set<String> excluded, Visitor visitor) throws IOException {
        walk(upper, "", excluded, visitor);
    }

    private static Map<String, Object> lstat(Path p) throws IOException {
        try {
            return Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        } catch (java.nio.file.FileSystemException e) {
            if (e.getReason() != null && e.getReason().contains("Not a directory")) {
                return null;
            }
            throw e;
        }
    }

    private static void walk(Path dir, String prefix, Set<String> excluded, Visitor visitor) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(children::add);
        }
        children.sort((a, b) -> Arrays.compareUnsigned(utf8(a), utf8(b)));
        for (Path child : children) {
            String name = prefix + child.getFileName();
            if (excluded.contains(name)) {
                continue;
            }
            Map<String, Object> attrs = Files.readAttributes(child, "unix:*", LinkOption.NOFOLLOW_LINKS);
            Entry e = new Entry(name, child, attrs);
            if (visitor.visit(e) && e.isDir()) {
                walk(child, name + "/", excluded, visitor);
            }
        }
    }

    private static byte[] utf8(Path p) {
        return p.getFileName().toString().getBytes(StandardCharsets.UTF_8);
    }
}
