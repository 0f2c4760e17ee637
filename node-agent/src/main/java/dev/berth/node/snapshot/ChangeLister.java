package dev.berth.node.snapshot;

import dev.berth.node.snapshot.Snapshotter.Change;
import dev.berth.node.snapshot.Snapshotter.ChangeKind;

import java.io.IOException;
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
 * The runtime's mount points are left out ({@link UpperDir#runtimeArtifacts}), and a directory holding one is
 * compared by mode and owner only. Unlike moby, "the image has the path" is decided the way overlay shows it (whiteouts and opaque directories in the
 * image's own layers hide what is below them), and without following a symlink.
 */
final class ChangeLister {
    private final Path upper;
    private final ImageView image;

    ChangeLister(Path upper, ImageView image) {
        this.upper = upper;
        this.image = image;
    }

    List<Change> list() throws IOException {
        List<Change> changes = new ArrayList<>();
        Set<String> changedDirs = new HashSet<>();
        // directories of the upper dir that hide the image's content below them (prefixes ending in '/')
        List<String> opaquePrefixes = new ArrayList<>();
        Set<String> artifacts = UpperDir.runtimeArtifacts(upper, image);
        UpperDir.walk(upper, artifacts, e -> {
            String path = "/" + e.name();
            boolean belowOpaque = opaquePrefixes.stream().anyMatch(p -> path.startsWith(p));
            Map<String, Object> inImage = belowOpaque ? null : image.lookup(e.name());
            ChangeKind kind;
            if (e.whiteout()) {
                kind = ChangeKind.DELETE;
            } else if (e.opaque()) {
                opaquePrefixes.add(path + "/");
                kind = inImage != null ? ChangeKind.DELETE : ChangeKind.ADD;
            } else if (inImage == null) {
                kind = ChangeKind.ADD;
            } else if (e.isDir() && isDir(inImage) && (holdsArtifacts(artifacts, e.name())
                    ? sameOwnerAndMode(e.attrs(), inImage) : sameDir(e.attrs(), inImage))) {
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

    private static boolean isDir(Map<String, Object> a) {
        return ((Integer) a.get("mode") & UpperDir.S_IFMT) == UpperDir.S_IFDIR;
    }

    /** A directory where the runtime made a mount point: its size and mtime changed, but not by the container. */
    private static boolean holdsArtifacts(Set<String> artifacts, String dir) {
        return artifacts.stream().anyMatch(a -> a.startsWith(dir + "/"));
    }

    private static boolean sameOwnerAndMode(Map<String, Object> a, Map<String, Object> b) {
        return a.get("mode").equals(b.get("mode")) && a.get("uid").equals(b.get("uid")) && a.get("gid").equals(b.get("gid"));
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
