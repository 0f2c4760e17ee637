package dev.berth.node.snapshot;

import dev.berth.node.snapshot.Snapshotter.Change;
import dev.berth.node.snapshot.Snapshotter.ChangeKind;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code docker diff} from the upper dir, with the rules of moby's overlay driver ({@code archive.OverlayChanges}):
 * <ul>
 * <li>a whiteout is a deletion; an opaque directory that the image had is a deletion too (the directory was removed
 * and made again), and everything below it is an addition;</li>
 * <li>anything else is a modification if the image has the path, else an addition; a directory that the image has
 * with the same mode, size and mtime is left out (it is only there because something below it changed);</li>
 * <li>the parent of an addition or deletion is reported as modified once, if it was not already.</li>
 * </ul>
 * Unlike moby, "the image has the path" is decided the way overlay shows it (whiteouts and opaque directories in the
 * image's own layers hide what is below them), and without following a symlink.
 */
final class ChangeLister {
    private final Path upper;
    /** The image's layer dirs, topmost first. */
    private final List<Path> lowers;

    ChangeLister(Path upper, List<Path> lowers) {
        this.upper = upper;
        this.lowers = lowers;
    }

    List<Change> list() throws IOException {
        List<Change> changes = new ArrayList<>();
        Set<String> changedDirs = new HashSet<>();
        // directories of the upper dir that hide the image's content below them (prefixes ending in '/')
        List<String> opaquePrefixes = new ArrayList<>();
        UpperDir.walk(upper, e -> {
            String path = "/" + e.name();
            boolean belowOpaque = opaquePrefixes.stream().anyMatch(p -> path.startsWith(p));
            Map<String, Object> inImage = belowOpaque ? null : lookup(e.name());
            ChangeKind kind;
            if (e.whiteout()) {
                kind = ChangeKind.DELETE;
            } else if (e.opaque()) {
                opaquePrefixes.add(path + "/");
                kind = inImage != null ? ChangeKind.DELETE : ChangeKind.ADD;
            } else if (inImage == null) {
                kind = ChangeKind.ADD;
            } else if (e.isDir() && isDir(inImage) && sameDir(e.attrs(), inImage)) {
                return true; // only on the way to a change below it
            } else {
                kind = ChangeKind.MODIFY;
            }
            if (e.isDir()) {
                changedDirs.add(path);
            }
            if (kind != ChangeKind.MODIFY) {
                String parent = path.substring(0, path.lastIndexOf('/'));
                if (!parent.isEmpty() && changedDirs.add(parent)) {
                    changes.add(new Change(parent, ChangeKind.MODIFY));
                }
            }
            changes.add(new Change(path, kind));
            return true;
        });
        return changes;
    }

    /**
     * The attributes of {@code name} in the image (the lower dirs as overlay merges them), or null if the image does
     * not show that path: a layer's whiteout of the path or of a parent hides it, a layer's opaque parent directory
     * hides the layers below, a non-directory parent ends the path.
     */
    private Map<String, Object> lookup(String name) throws IOException {
        String[] parts = name.split("/");
        for (Path layer : lowers) {
            Path p = layer;
            boolean opaqueAbove = false;
            for (int i = 0; i < parts.length; i++) {
                p = p.resolve(parts[i]);
                Map<String, Object> a = lstat(p);
                if (a == null) {
                    break; // this layer says nothing about the path
                }
                UpperDir.Entry probe = new UpperDir.Entry(name, p, a);
                if (probe.whiteout()) {
                    return null;
                }
                if (i == parts.length - 1) {
                    return a;
                }
                if (!probe.isDir()) {
                    return null;
                }
                if (probe.opaque()) {
                    opaqueAbove = true;
                }
            }
            if (opaqueAbove) {
                return null;
            }
        }
        return null;
    }

    private static Map<String, Object> lstat(Path p) throws IOException {
        try {
            return Files.readAttributes(p, "unix:*", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        } catch (java.nio.file.FileSystemException e) {
            if (e.getReason() != null && e.getReason().contains("Not a directory")) {
                return null;
            }
            throw e;
        }
    }

    private static boolean isDir(Map<String, Object> a) {
        return ((Integer) a.get("mode") & UpperDir.S_IFMT) == UpperDir.S_IFDIR;
    }

    /** moby's test: same size, mode and mtime (a zero sub-second part on either side compares seconds only). */
    private static boolean sameDir(Map<String, Object> a, Map<String, Object> b) {
        if (!a.get("size").equals(b.get("size")) || !a.get("mode").equals(b.get("mode"))) {
            return false;
        }
        FileTime ta = (FileTime) a.get("lastModifiedTime"), tb = (FileTime) b.get("lastModifiedTime");
        long sa = ta.toInstant().getEpochSecond(), sb = tb.toInstant().getEpochSecond();
        int na = ta.toInstant().getNano(), nb = tb.toInstant().getNano();
        return sa == sb && (na == nb || na == 0 || nb == 0);
    }
}
