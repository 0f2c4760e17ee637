package dev.berth.node.snapshot;

import dev.berth.node.nativeio.Libc;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes an overlay upper directory as a layer tar in Docker's format: overlay whiteouts (0/0 character devices)
 * become {@code .wh.<name>} entries, opaque directories get a {@code .wh..wh..opq} entry, hard links inside the
 * upper dir stay hard links, sockets are left out (as Docker does), and {@code trusted.overlay.*} attributes are not
 * exported. Entries are sorted by name, so the same tree gives the same tar.
 */
final class DiffExporter {
    private static final int S_IFMT = 0170000, S_IFSOCK = 0140000, S_IFLNK = 0120000, S_IFREG = 0100000,
            S_IFBLK = 0060000, S_IFDIR = 0040000, S_IFCHR = 0020000, S_IFIFO = 0010000;

    private record Inode(Object dev, Object ino) {
    }

    private final Path upper;
    private final Map<Inode, String> seenLinks = new HashMap<>();

    DiffExporter(Path upper) {
        this.upper = upper;
    }

    void export(OutputStream out) throws IOException {
        TarWriter tar = new TarWriter(out);
        walk(upper, "", tar);
        tar.finish();
    }

    private void walk(Path dir, String prefix, TarWriter tar) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(children::add);
        }
        children.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
        for (Path child : children) {
            String name = prefix + child.getFileName();
            Map<String, Object> a = Files.readAttributes(child, "unix:*", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            int uid = (Integer) a.get("uid");
            int gid = (Integer) a.get("gid");
            long mtime = ((FileTime) a.get("lastModifiedTime")).toMillis() / 1000;
            int type = mode & S_IFMT;
            String path = child.toString();
            switch (type) {
                case S_IFDIR -> {
                    tar.header(name + "/", '5', mode, uid, gid, 0, mtime, null, 0, 0, xattrs(path));
                    byte[] opaque = Libc.lgetxattr(path, LayerUnpacker.OVERLAY_OPAQUE_XATTR);
                    if (opaque != null && Arrays.equals(opaque, new byte[]{'y'})) {
                        tar.header(name + "/" + LayerUnpacker.OPAQUE_MARKER, '0', mode & 0777, uid, gid, 0, mtime, null,
                                0, 0, Map.of());
                    }
                    walk(child, name + "/", tar);
                }
                case S_IFCHR, S_IFBLK -> {
                    long rdev = (Long) a.get("rdev");
                    int major = (int) (((rdev >>> 32) & 0xfffff000L) | ((rdev >>> 8) & 0xfff));
                    int minor = (int) (((rdev >>> 12) & 0xffffff00L) | (rdev & 0xff));
                    if (type == S_IFCHR && major == 0 && minor == 0) {
                        tar.header(whiteoutName(name), '0', 0600, uid, gid, 0, mtime, null, 0, 0, Map.of());
                    } else {
                        tar.header(name, type == S_IFCHR ? '3' : '4', mode, uid, gid, 0, mtime, null, major, minor, xattrs(path));
                    }
                }
                case S_IFIFO -> tar.header(name, '6', mode, uid, gid, 0, mtime, null, 0, 0, xattrs(path));
                case S_IFLNK -> tar.header(name, '2', 0777, uid, gid, 0, mtime, Files.readSymbolicLink(child).toString(), 0, 0,
                        xattrs(path));
                case S_IFREG -> {
                    int nlink = (Integer) a.get("nlink");
                    if (nlink > 1) {
                        Inode inode = new Inode(a.get("dev"), a.get("ino"));
                        String first = seenLinks.putIfAbsent(inode, name);
                        if (first != null) {
                            tar.header(name, '1', mode, uid, gid, 0, mtime, first, 0, 0, Map.of());
                            continue;
                        }
                    }
                    long size = (Long) a.get("size");
                    if (size == 0 && Libc.lgetxattr(path, "trusted.overlay.whiteout") != null) {
                        // overlay's other whiteout form, used where the upper fs cannot hold 0/0 devices
                        tar.header(whiteoutName(name), '0', 0600, uid, gid, 0, mtime, null, 0, 0, Map.of());
                        continue;
                    }
                    tar.header(name, '0', mode, uid, gid, size, mtime, null, 0, 0, xattrs(path));
                    try (InputStream in = Files.newInputStream(child, LinkOption.NOFOLLOW_LINKS)) {
                        tar.data(in);
                    } catch (IOException e) {
                        throw new IOException("read `" + path + "`: " + e.getMessage(), e);
                    }
                }
                case S_IFSOCK -> {
                    // A socket is bound to a running process; Docker's archives skip them too.
                }
                default -> throw new IOException("lstat `" + path + "`: unknown file type 0" + Integer.toOctalString(type));
            }
        }
    }

    private static String whiteoutName(String name) {
        int slash = name.lastIndexOf('/');
        return name.substring(0, slash + 1) + LayerUnpacker.WHITEOUT_PREFIX + name.substring(slash + 1);
    }

    private static Map<String, byte[]> xattrs(String path) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        List<String> names = new ArrayList<>(Libc.llistxattr(path));
        names.sort(String::compareTo);
        for (String n : names) {
            if (n.startsWith("trusted.overlay.")) {
                continue;
            }
            byte[] v = Libc.lgetxattr(path, n);
            if (v != null) {
                out.put(n, v);
            }
        }
        return out;
    }
}
