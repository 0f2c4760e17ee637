package dev.berth.node.snapshot;

import dev.berth.node.nativeio.Libc;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.berth.node.snapshot.UpperDir.S_IFBLK;
import static dev.berth.node.snapshot.UpperDir.S_IFCHR;
import static dev.berth.node.snapshot.UpperDir.S_IFDIR;
import static dev.berth.node.snapshot.UpperDir.S_IFIFO;
import static dev.berth.node.snapshot.UpperDir.S_IFLNK;
import static dev.berth.node.snapshot.UpperDir.S_IFREG;
import static dev.berth.node.snapshot.UpperDir.S_IFSOCK;

/**
 * Writes an overlay upper directory as a layer tar in Docker's format: overlay whiteouts (0/0 character devices)
 * become {@code .wh.<name>} entries, opaque directories get a {@code .wh..wh..opq} entry, hard links inside the
 * upper dir stay hard links, sockets are left out (as Docker does), and {@code trusted.overlay.*} attributes are not
 * exported. Entries come in {@link UpperDir}'s order and mtimes in whole seconds, so the same tree gives the same tar.
 *
 * <p>Whiteouts and opaque markers carry mtime 0: overlay makes whiteouts as links to one shared inode whose time is
 * when the first one was made, which would make two identical changes differ by their tar bytes.
 */
final class DiffExporter {
    private record Inode(Object dev, Object ino) {
    }

    private final Path upper;
    private final Set<String> excluded;
    private final Map<Inode, String> seenLinks = new HashMap<>();

    /** @param excluded names left out with everything below them (the runtime's mount points) */
    DiffExporter(Path upper, Set<String> excluded) {
        this.upper = upper;
        this.excluded = excluded;
    }

    void export(OutputStream out) throws IOException {
        TarWriter tar = new TarWriter(out);
        UpperDir.walk(upper, excluded, e -> write(e, tar));
        tar.finish();
    }

    private boolean write(UpperDir.Entry e, TarWriter tar) throws IOException {
        String name = e.name();
        int mode = e.mode(), uid = e.uid(), gid = e.gid();
        long mtime = e.mtimeSeconds();
        String path = e.file().toString();
        if (e.whiteout()) {
            tar.header(whiteoutName(name), '0', 0600, uid, gid, 0, 0, null, 0, 0, Map.of());
            return false;
        }
        switch (e.type()) {
            case S_IFDIR -> {
                tar.header(name + "/", '5', mode, uid, gid, 0, mtime, null, 0, 0, xattrs(path));
                if (e.opaque()) {
                    tar.header(name + "/" + LayerUnpacker.OPAQUE_MARKER, '0', mode & 0777, uid, gid, 0, 0, null,
                            0, 0, Map.of());
                }
            }
            case S_IFCHR, S_IFBLK -> tar.header(name, e.type() == S_IFCHR ? '3' : '4', mode, uid, gid, 0, mtime, null,
                    e.devMajor(), e.devMinor(), xattrs(path));
            case S_IFIFO -> tar.header(name, '6', mode, uid, gid, 0, mtime, null, 0, 0, xattrs(path));
            case S_IFLNK -> tar.header(name, '2', 0777, uid, gid, 0, mtime, Files.readSymbolicLink(e.file()).toString(),
                    0, 0, xattrs(path));
            case S_IFREG -> {
                if (e.nlink() > 1) {
                    Inode inode = new Inode(e.attrs().get("dev"), e.attrs().get("ino"));
                    String first = seenLinks.putIfAbsent(inode, name);
                    if (first != null) {
                        tar.header(name, '1', mode, uid, gid, 0, mtime, first, 0, 0, Map.of());
                        return false;
                    }
                }
                long size = e.size();
                tar.header(name, '0', mode, uid, gid, size, mtime, null, 0, 0, xattrs(path));
                try (InputStream in = Files.newInputStream(e.file(), LinkOption.NOFOLLOW_LINKS)) {
                    tar.data(in);
                } catch (IOException ex) {
                    throw new IOException("read `" + path + "`: " + ex.getMessage(), ex);
                }
            }
            case S_IFSOCK -> {
                // A socket is bound to a running process; Docker's archives skip them too.
            }
            default -> throw new IOException("lstat `" + path + "`: unknown file type 0" + Integer.toOctalString(e.type()));
        }
        return true;
    }

    static String whiteoutName(String name) {
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
