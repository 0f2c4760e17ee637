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
import java.util.List;
import java.util.Map;

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

    static void walk(Path upper, Visitor visitor) throws IOException {
        walk(upper, "", visitor);
    }

    private static void walk(Path dir, String prefix, Visitor visitor) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(children::add);
        }
        children.sort((a, b) -> Arrays.compareUnsigned(utf8(a), utf8(b)));
        for (Path child : children) {
            Map<String, Object> attrs = Files.readAttributes(child, "unix:*", LinkOption.NOFOLLOW_LINKS);
            Entry e = new Entry(prefix + child.getFileName(), child, attrs);
            if (visitor.visit(e) && e.isDir()) {
                walk(child, e.name() + "/", visitor);
            }
        }
    }

    private static byte[] utf8(Path p) {
        return p.getFileName().toString().getBytes(StandardCharsets.UTF_8);
    }
}
