package dev.berth.image.build;

import dev.berth.image.store.BlobStore;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * The file tree an image's layers make, as headers only: later layers replace earlier entries, AUFS whiteouts
 * ({@code .wh.name}) remove a path and what is below it, an opaque marker ({@code .wh..wh..opq}) hides what lower
 * layers had in its directory. Paths are relative and clean ({@code etc/passwd}).
 */
final class ImageFiles {

    /** An entry and the layer blob that holds it. */
    record Node(TarArchiveEntry header, String layer) {
    }

    private final TreeMap<String, Node> nodes = new TreeMap<>();
    private final List<String> layers = new ArrayList<>();

    /** The tree of these layers (blobs in the store), lowest first. */
    static ImageFiles of(BlobStore blobs, List<String> layerDigests) {
        ImageFiles files = new ImageFiles();
        for (String d : layerDigests) {
            files.apply(blobs, d);
        }
        return files;
    }

    List<String> layers() {
        return List.copyOf(layers);
    }

    /** Adds one more layer on top. */
    void apply(BlobStore blobs, String digest) {
        layers.add(digest);
        Map<String, Node> added = new TreeMap<>();
        try (InputStream in = Files.newInputStream(blobs.path(digest));
             TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                String path = DockerIgnore.clean(e.getName());
                if (path.equals(".")) {
                    continue;
                }
                String name = path.substring(path.lastIndexOf('/') + 1);
                String dir = path.contains("/") ? path.substring(0, path.lastIndexOf('/')) : "";
                if (name.equals(".wh..wh..opq")) {
                    removeBelow(dir, added);
                } else if (name.startsWith(".wh.")) {
                    String target = (dir.isEmpty() ? "" : dir + "/") + name.substring(4);
                    nodes.remove(target);
                    removeBelow(target, added);
                } else {
                    if (!e.isDirectory()) {
                        // a file replacing a directory hides everything that was below it
                        removeBelow(path, added);
                    }
                    Node n = new Node(e, digest);
                    nodes.put(path, n);
                    added.put(path, n);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read layer " + digest, e);
        }
    }

    private void removeBelow(String dir, Map<String, Node> keep) {
        String prefix = dir.isEmpty() ? "" : dir + "/";
        nodes.subMap(prefix, prefix + Character.MAX_VALUE).keySet()
                .removeIf(k -> !keep.containsKey(k) && (prefix.isEmpty() || k.startsWith(prefix)));
    }

    Node get(String path) {
        return nodes.get(DockerIgnore.clean(path));
    }

    boolean isDirectory(String path) {
        String p = DockerIgnore.clean(path);
        if (p.equals(".")) {
            return true;
        }
        Node n = nodes.get(p);
        return n != null && n.header().isDirectory();
    }

    /** Every path in the tree, sorted. */
    List<String> paths() {
        return new ArrayList<>(nodes.keySet());
    }

    /** The path and everything below it, sorted (a path before its children). */
    List<String> below(String path) {
        String p = DockerIgnore.clean(path);
        if (p.equals(".")) {
            return paths();
        }
        List<String> out = new ArrayList<>();
        if (nodes.containsKey(p)) {
            out.add(p);
        }
        out.addAll(nodes.subMap(p + "/", p + "/" + Character.MAX_VALUE).keySet());
        return out;
    }

    /**
     * Streams the content of regular files, one layer read at a time.
     *
     * @param wanted paths of regular files in this tree
     * @param sink   receives each path and the stream of its content (read it before returning)
     */
    void read(BlobStore blobs, List<String> wanted, BiConsumer<String, InputStream> sink) {
        Map<String, List<String>> byLayer = new TreeMap<>();
        for (String w : wanted) {
            Node n = nodes.get(w);
            if (n != null && n.header().isFile()) {
                byLayer.computeIfAbsent(n.layer(), k -> new ArrayList<>()).add(w);
            }
        }
        for (var entry : byLayer.entrySet()) {
            List<String> paths = new ArrayList<>(entry.getValue());
            try (InputStream in = Files.newInputStream(blobs.path(entry.getKey()));
                 TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
                TarArchiveEntry e;
                while (!paths.isEmpty() && (e = tar.getNextEntry()) != null) {
                    String path = DockerIgnore.clean(e.getName());
                    if (e.isFile() && paths.remove(path)) {
                        sink.accept(path, tar);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read layer " + entry.getKey(), e);
            }
        }
    }

    /** Reads one small file of the tree (e.g. {@code etc/passwd}), or null when it is not a regular file there. */
    byte[] small(BlobStore blobs, String path) {
        String p = DockerIgnore.clean(path);
        Node n = nodes.get(p);
        if (n == null || !n.header().isFile()) {
            return null;
        }
        byte[][] out = new byte[1][];
        read(blobs, List.of(p), (name, in) -> {
            try {
                out[0] = in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        return out[0];
    }

    static void drain(InputStream in) throws IOException {
        in.transferTo(OutputStream.nullOutputStream());
    }
}
