package dev.berth.node.snapshot;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** An image's file tree as overlay merges its layer dirs, read path by path without mounting it. */
final class ImageView {
    /** The image's layer dirs, topmost first. */
    private final List<Path> lowers;

    ImageView(List<Path> lowers) {
        this.lowers = lowers;
    }

    /**
     * The lstat attributes of {@code name} (relative, '/'-separated) in the image, or null if the image does not show
     * that path: a layer's whiteout of the path or of a parent hides it, a layer's opaque parent directory hides the
     * layers below, a non-directory parent ends the path.
     */
    Map<String, Object> lookup(String name) throws IOException {
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
        } catch (FileSystemException e) {
            if (e.getReason() != null && e.getReason().contains("Not a directory")) {
                return null;
            }
            throw e;
        }
    }
}
