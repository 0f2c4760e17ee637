package dev.berth.node.snapshot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** File tree helpers of the snapshotter: deletion that never crosses a mount, and the mount table. */
final class FileTrees {
    private FileTrees() {
    }

    /**
     * Deletes {@code path} and everything below it without following symlinks. Refuses to descend into another
     * filesystem (a mount below it), so a forgotten mount is reported instead of emptied.
     */
    static void deleteRecursively(Path path) throws IOException {
        Object dev;
        try {
            dev = Files.getAttribute(path, "unix:dev", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        delete(path, dev);
    }

    private static void delete(Path path, Object dev) throws IOException {
        if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            if (!dev.equals(Files.getAttribute(path, "unix:dev", LinkOption.NOFOLLOW_LINKS))) {
                throw new IOException("rmdir `" + path + "`: a filesystem is mounted there; not deleting across it");
            }
            List<Path> children = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(path)) {
                ds.forEach(children::add);
            }
            for (Path c : children) {
                delete(c, dev);
            }
        }
        Files.deleteIfExists(path);
    }

    /** The mount points of this process's mount namespace (field 5 of /proc/self/mountinfo, unescaped). */
    static List<String> mountPoints() throws IOException {
        List<String> points = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
            String[] f = line.split(" ");
            if (f.length > 4) {
                points.add(unescape(f[4]));
            }
        }
        return points;
    }

    /** Whether {@code path} (an absolute, symlink-free path) is a mount point in this mount namespace. */
    static boolean isMountPoint(Path path) throws IOException {
        return mountPoints().contains(path.toString());
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                try {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException e) {
                    // not an escape: keep the backslash
                }
            }
            b.append(c);
        }
        return b.toString();
    }
}
