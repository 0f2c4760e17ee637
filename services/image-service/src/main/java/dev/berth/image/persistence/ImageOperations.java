package dev.berth.image.persistence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.events.DomainException;
import dev.berth.image.domain.ImageCommand;
import dev.berth.image.domain.ImageConfigs;
import dev.berth.image.domain.ImageEvent;
import dev.berth.image.domain.ImageEvent.ImageAdded;
import dev.berth.image.domain.ImageEvent.ImageImported;
import dev.berth.image.domain.ImageEvent.ImageLoaded;
import dev.berth.image.domain.ImageEvent.Layer;
import dev.berth.image.domain.Reference;
import dev.berth.image.gc.Leases;
import dev.berth.image.projection.ImageRows;
import dev.berth.image.projection.ImageView;
import dev.berth.image.store.BlobStore;
import dev.berth.image.store.BlobStore.Staged;
import io.quarkus.vertx.VertxContextSupport;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The image operations that move content: import, load and save. They run on worker threads (request bodies and
 * archives are streams through disk, never whole in memory) and call the event store through a Vert.x context.
 *
 * <p>Every operation verifies all content before any blob becomes visible; blobs are put in place just before the
 * events are appended, and collected again if the append fails, so a failed operation leaves no blob and no row.
 */
@ApplicationScoped
public class ImageOperations {

    public static final String MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String CONFIG_V1 = "application/vnd.docker.container.image.v1+json";
    public static final String LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar";
    private static final ObjectMapper JSON = new ObjectMapper();
    // archive members up to this size are kept in memory while a load reads the archive (configs, manifests)
    private static final long IN_MEMORY = 1 << 20;

    private final ImageService images;
    private final BlobStore blobs;
    private final Leases leases;

    public ImageOperations(ImageService images, BlobStore blobs, Leases leases) {
        this.images = images;
        this.blobs = blobs;
        this.leases = leases;
    }

    /** Opens a lease for an operation that finds blobs in the store before it adds the image naming them. */
    public Leases.Lease lease(String purpose) {
        return leases.open(purpose);
    }

    /** Docker's name of this machine's architecture. */
    public static String architecture() {
        String arch = System.getProperty("os.arch");
        return switch (arch) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            default -> arch;
        };
    }

    /**
     * {@code docker import}: one layer from a rootfs tar (plain or gzip), a config with the changes applied.
     *
     * @param reference where to tag it, or null for an untagged image
     * @return the image id
     * @throws DomainException 400 for a bad change or a body that is not a tar
     */
    public String importImage(String tenant, InputStream body, Reference reference, List<String> changes,
                              String message) {
        ObjectNode config = ImageConfigs.emptyContainerConfig();
        ImageConfigs.applyChanges(config, changes);
        Staged layer = blobs.stageLayer(body);
        List<Staged> staged = new ArrayList<>(List.of(layer));
        try {
            Instant created = Instant.now();
            byte[] configBytes = ImageConfigs.importedConfig(config, architecture(), "linux", message, created,
                    layer.digest());
            Staged configBlob = blobs.stageBytes(configBytes);
            staged.add(configBlob);
            Layer l = new Layer(layer.digest(), layer.digest(), layer.size(), LAYER_TAR, layer.contentSize());
            Staged manifest = blobs.stageBytes(manifest(configBlob, List.of(l)));
            staged.add(manifest);
            JsonNode parsed = ImageConfigs.read(configBytes);
            ImageImported image = new ImageImported(configBlob.digest(), configBlob.digest(), manifest.digest(),
                    MANIFEST_V2, List.of(l), ImageConfigs.runtime(parsed), architecture(), "linux",
                    message == null ? "" : message, created, layer.contentSize(), List.of());
            add(tenant, image, reference == null ? List.of() : List.of(reference), staged);
            return image.imageId();
        } finally {
            staged.forEach(blobs::discard);
        }
    }

    /**
     * {@code docker load}: every image of a {@code docker save} archive, legacy layout ({@code manifest.json}) or
     * OCI layout ({@code index.json}).
     *
     * @return the lines Docker prints: {@code Loaded image: x:1} per tag, {@code Loaded image ID: sha256:...} per
     *         untagged image
     * @throws DomainException 400 when the archive is not a tar, lacks its index, or a layer does not match its config
     */
    public List<String> load(String tenant, InputStream body) {
        Map<String, byte[]> small = new LinkedHashMap<>();
        Map<String, Staged> large = new LinkedHashMap<>();
        Map<String, String> links = new LinkedHashMap<>();
        List<Staged> staged = new ArrayList<>();
        try {
            readArchive(body, small, large, links);
            staged.addAll(large.values());
            List<ArchiveImage> found = small.containsKey("manifest.json") ? legacy(small)
                    : small.containsKey("index.json") ? oci(small) : null;
            if (found == null) {
                throw DomainException.badRequest("invalid archive: it has neither manifest.json nor index.json");
            }
            Map<String, Staged> layersByPath = new LinkedHashMap<>();
            record Checked(ImageLoaded image, List<Reference> tags, List<Staged> blobs) {
            }
            // every image of the archive is checked before the first one is recorded, so a bad one keeps none
            List<Checked> checked = new ArrayList<>();
            for (ArchiveImage a : found) {
                byte[] configBytes = member(small, follow(links, a.config()));
                Staged configBlob = blobs.stageBytes(configBytes);
                staged.add(configBlob);
                JsonNode config = ImageConfigs.read(configBytes);
                List<String> diffIds = ImageConfigs.diffIds(config);
                if (diffIds.size() != a.layers().size()) {
                    throw DomainException.badRequest("invalid archive: " + a.config() + " lists " + diffIds.size()
                            + " layers, the manifest " + a.layers().size());
                }
                List<Layer> layers = new ArrayList<>();
                long size = 0;
                for (int i = 0; i < diffIds.size(); i++) {
                    String path = follow(links, a.layers().get(i));
                    Staged layer = layersByPath.get(path);
                    if (layer == null) {
                        try (InputStream in = open(small, large, path)) {
                            layer = blobs.stageLayer(in);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                        staged.add(layer);
                        layersByPath.put(path, layer);
                    }
                    if (!layer.digest().equals(diffIds.get(i))) {
                        throw DomainException.badRequest("invalid archive: layer " + path + " has diff id "
                                + layer.digest() + ", the image config expects " + diffIds.get(i));
                    }
                    layers.add(new Layer(layer.digest(), layer.digest(), layer.size(), LAYER_TAR, layer.contentSize()));
                    size += layer.contentSize();
                }
                Staged manifest = blobs.stageBytes(manifest(configBlob, layers));
                staged.add(manifest);
                List<Reference> tags = new ArrayList<>();
                for (String t : a.repoTags()) {
                    tags.add(Reference.parse(t));
                }
                Instant created = parseTime(config.path("created").asText(null));
                ImageLoaded image = new ImageLoaded(configBlob.digest(), configBlob.digest(), manifest.digest(),
                        MANIFEST_V2, layers, ImageConfigs.runtime(config), config.path("architecture").asText(""),
                        config.path("os").asText(""), config.path("comment").asText(""), created, size, List.of());
                List<Staged> mine = new ArrayList<>(List.of(configBlob, manifest));
                layers.forEach(l -> mine.add(layersByPath.values().stream()
                        .filter(s -> s.digest().equals(l.digest())).findFirst().orElseThrow()));
                checked.add(new Checked(image, tags, mine));
            }
            List<String> out = new ArrayList<>();
            for (Checked c : checked) {
                add(tenant, c.image(), c.tags(), c.blobs());
                if (c.tags().isEmpty()) {
                    out.add("Loaded image ID: " + c.image().imageId());
                } else {
                    c.tags().forEach(t -> out.add("Loaded image: " + t.familiar()));
                }
            }
            return out;
        } finally {
            staged.forEach(blobs::discard);
        }
    }

    /**
     * {@code docker save} in the legacy layout: {@code <diff id>/layer.tar} (+ {@code VERSION}, {@code json}),
     * {@code <config hex>.json}, {@code manifest.json}, {@code repositories}.
     *
     * @param resolved the images, in the order asked; a name that was a reference puts that reference in RepoTags
     */
    public void save(List<ImageService.Resolved> resolved, OutputStream target) throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(target);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        Set<String> written = new LinkedHashSet<>();
        Map<String, ObjectNode> manifests = new LinkedHashMap<>();
        Map<String, Map<String, String>> repositories = new LinkedHashMap<>();
        long now = Instant.now().getEpochSecond();
        for (ImageService.Resolved r : resolved) {
            ImageView v = r.image();
            List<Layer> layers = ImageRows.layers(v.layersJson);
            String configName = v.id.substring(7) + ".json";
            ObjectNode m = manifests.get(v.id);
            if (m == null) {
                m = JSON.createObjectNode();
                m.put("Config", configName);
                m.putNull("RepoTags");
                var paths = m.putArray("Layers");
                for (Layer l : layers) {
                    String dir = l.diffId().substring(7);
                    paths.add(dir + "/layer.tar");
                    if (written.add(dir)) {
                        entry(tar, dir + "/VERSION", "1.0".getBytes(StandardCharsets.UTF_8), now);
                        entry(tar, dir + "/json", ("{\"id\":\"" + dir + "\"}").getBytes(StandardCharsets.UTF_8), now);
                        TarArchiveEntry e = new TarArchiveEntry(dir + "/layer.tar");
                        e.setSize(blobs.size(l.digest()));
                        e.setModTime(now * 1000);
                        tar.putArchiveEntry(e);
                        Files.copy(blobs.path(l.digest()), tar);
                        tar.closeArchiveEntry();
                    }
                }
                if (written.add(configName)) {
                    entry(tar, configName, blobs.read(v.id), now);
                }
                manifests.put(v.id, m);
            }
            if (r.byName() != null) {
                var tags = m.get("RepoTags").isNull() ? m.putArray("RepoTags") : (com.fasterxml.jackson.databind.node.ArrayNode) m.get("RepoTags");
                boolean present = false;
                for (JsonNode t : tags) {
                    present |= t.asText().equals(r.byName().familiar());
                }
                if (!present) {
                    tags.add(r.byName().familiar());
                    repositories.computeIfAbsent(r.byName().repository(), k -> new LinkedHashMap<>())
                            .put(r.byName().tag(), layers.isEmpty() ? "" : layers.get(layers.size() - 1).diffId().substring(7));
                }
            }
        }
        entry(tar, "manifest.json", JSON.writeValueAsBytes(manifests.values()), now);
        entry(tar, "repositories", JSON.writeValueAsBytes(repositories), now);
        tar.finish();
        tar.flush();
    }

    /** Runs a reactive call from a worker thread. */
    public static <T> T await(Supplier<Uni<T>> call) {
        try {
            return VertxContextSupport.subscribeAndAwait(call::get);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Records an image whose blobs are staged: leases every blob the image names, places the staged ones, appends the
     * events, and collects the blobs again if the append fails. The caller discards its staged blobs afterwards
     * (committed ones are gone from staging).
     *
     * @throws IllegalStateException when a blob the image names is neither staged nor stored once leased (a
     *                               concurrent removal collected it before this operation held it)
     */
    public void add(String tenant, ImageAdded image, List<Reference> tags, List<Staged> staged) {
        try (Leases.Lease lease = leases.open("add image")) {
            add(lease, tenant, image, tags, staged);
        }
    }

    /**
     * {@link #add(String, ImageAdded, List, List)} under a lease the caller holds (and closes): for an operation that
     * found some of the image's blobs in the store earlier and leased them before it looked.
     */
    public void add(Leases.Lease lease, String tenant, ImageAdded image, List<Reference> tags, List<Staged> staged) {
        lease.hold(ImageService.digests(image));
        staged.forEach(blobs::commit);
        for (String d : ImageService.digests(image)) {
            if (!blobs.exists(d)) {
                throw new IllegalStateException("blob " + d + " of image " + image.imageId()
                        + " was removed by a concurrent image removal before it was leased; try again");
            }
        }
        try {
            await(() -> images.handle(tenant, new ImageCommand.AddImage(image, tags)));
        } catch (RuntimeException e) {
            lease.close();
            await(() -> images.collect(ImageService.digests(image)));
            throw e;
        }
    }

    /** Berth's Docker schema 2 manifest of an image whose layers are stored uncompressed. */
    public static byte[] manifest(Staged config, List<Layer> layers) {
        return manifest(config.digest(), config.size(), layers);
    }

    /** Berth's Docker schema 2 manifest of a config (by digest and size) and layers stored uncompressed. */
    public static byte[] manifest(String configDigest, long configSize, List<Layer> layers) {
        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", MANIFEST_V2);
        ObjectNode c = m.putObject("config");
        c.put("mediaType", CONFIG_V1);
        c.put("size", configSize);
        c.put("digest", configDigest);
        var array = m.putArray("layers");
        for (Layer l : layers) {
            ObjectNode o = array.addObject();
            o.put("mediaType", l.mediaType());
            o.put("size", l.size());
            o.put("digest", l.digest());
        }
        try {
            return JSON.writeValueAsBytes(m);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private record ArchiveImage(String config, List<String> repoTags, List<String> layers) {
    }

    /**
     * Reads the archive's members: small ones into memory, large ones staged on disk, and links by name to the member
     * they point at (Docker's save writes a layer shared by two images once, and a symbolic link to it from the
     * other image's layer directory).
     */
    private void readArchive(InputStream body, Map<String, byte[]> small, Map<String, Staged> large,
                             Map<String, String> links) {
        try {
            TarArchiveInputStream tar = new TarArchiveInputStream(body);
            TarArchiveEntry entry;
            boolean any = false;
            while ((entry = tar.getNextEntry()) != null) {
                any = true;
                String name = normalise(entry.getName());
                if (entry.isSymbolicLink()) {
                    String dir = name.contains("/") ? name.substring(0, name.lastIndexOf('/') + 1) : "";
                    links.put(name, dir + entry.getLinkName());
                    continue;
                }
                if (entry.isLink()) {
                    links.put(name, entry.getLinkName());
                    continue;
                }
                if (!entry.isFile()) {
                    continue;
                }
                if (entry.getSize() <= IN_MEMORY) {
                    small.put(name, tar.readAllBytes());
                } else {
                    large.put(name, blobs.stageRaw(tar));
                }
            }
            if (!any) {
                throw DomainException.badRequest("invalid archive: the archive is empty or not a tar");
            }
        } catch (IOException e) {
            throw DomainException.badRequest("invalid archive: " + e.getMessage());
        }
    }

    /**
     * The member a name stands for once links are followed.
     *
     * @throws DomainException 400 for a link that leads out of the archive or through too many links
     */
    private static String follow(Map<String, String> links, String name) {
        String n = name;
        for (int hops = 0; hops < 16; hops++) {
            String target = links.get(n);
            if (target == null) {
                return n;
            }
            String next = Path.of(target).normalize().toString();
            if (next.startsWith("..") || next.startsWith("/")) {
                throw DomainException.badRequest("invalid archive: " + n + " links outside the archive");
            }
            n = next;
        }
        throw DomainException.badRequest("invalid archive: too many links from " + name);
    }

    private static String normalise(String name) {
        String n = name;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        return n;
    }

    private List<ArchiveImage> legacy(Map<String, byte[]> small) {
        JsonNode manifest = readJson(small, "manifest.json");
        if (!manifest.isArray()) {
            throw DomainException.badRequest("invalid archive: manifest.json is not a JSON array");
        }
        List<ArchiveImage> out = new ArrayList<>();
        for (JsonNode m : manifest) {
            List<String> tags = new ArrayList<>();
            m.path("RepoTags").forEach(t -> tags.add(t.asText()));
            List<String> layers = new ArrayList<>();
            m.path("Layers").forEach(l -> layers.add(normalise(l.asText())));
            String config = m.path("Config").asText("");
            if (config.isEmpty()) {
                throw DomainException.badRequest("invalid archive: an entry of manifest.json has no Config");
            }
            out.add(new ArchiveImage(normalise(config), tags, layers));
        }
        return out;
    }

    private List<ArchiveImage> oci(Map<String, byte[]> small) {
        List<ArchiveImage> out = new ArrayList<>();
        for (JsonNode d : readJson(small, "index.json").path("manifests")) {
            ociDescriptor(small, d, out, null);
        }
        return out;
    }

    private void ociDescriptor(Map<String, byte[]> small, JsonNode d, List<ArchiveImage> out, String inheritedName) {
        String name = d.path("annotations").path("io.containerd.image.name").asText(null);
        if (name == null) {
            String ref = d.path("annotations").path("org.opencontainers.image.ref.name").asText(null);
            // an OCI ref name is a tag on its own, or a whole reference
            name = ref == null ? inheritedName : ref.contains(":") || ref.contains("/") ? ref : null;
        }
        JsonNode target = readJson(small, blobPath(d.path("digest").asText("")));
        String mediaType = d.path("mediaType").asText(target.path("mediaType").asText(""));
        if (mediaType.endsWith("image.index.v1+json") || mediaType.endsWith("manifest.list.v2+json")) {
            // an index names one image per platform: load the one for this machine
            JsonNode chosen = null;
            for (JsonNode inner : target.path("manifests")) {
                String arch = inner.path("platform").path("architecture").asText(architecture());
                if (chosen == null && arch.equals(architecture())) {
                    chosen = inner;
                }
            }
            if (chosen == null && target.path("manifests").size() == 1) {
                chosen = target.path("manifests").get(0);
            }
            if (chosen == null) {
                throw DomainException.badRequest("invalid archive: no image for architecture " + architecture());
            }
            ociDescriptor(small, chosen, out, name);
            return;
        }
        List<String> layers = new ArrayList<>();
        target.path("layers").forEach(l -> layers.add(blobPath(l.path("digest").asText(""))));
        String config = blobPath(target.path("config").path("digest").asText(""));
        out.add(new ArchiveImage(config, name == null ? List.of() : List.of(name), layers));
    }

    private static String blobPath(String digest) {
        if (!BlobStore.isDigest(digest)) {
            throw DomainException.badRequest("invalid archive: bad digest \"" + digest + "\"");
        }
        return "blobs/sha256/" + digest.substring(7);
    }

    private static JsonNode readJson(Map<String, byte[]> small, String name) {
        try {
            return JSON.readTree(member(small, name));
        } catch (IOException e) {
            throw DomainException.badRequest("invalid archive: " + name + " is not JSON: " + e.getMessage());
        }
    }

    private static byte[] member(Map<String, byte[]> small, String name) {
        byte[] content = small.get(name);
        if (content == null) {
            throw DomainException.badRequest("invalid archive: " + name + " is missing");
        }
        return content;
    }

    private static InputStream open(Map<String, byte[]> small, Map<String, Staged> large, String name)
            throws IOException {
        byte[] content = small.get(name);
        if (content != null) {
            return new ByteArrayInputStream(content);
        }
        Staged s = large.get(name);
        if (s == null) {
            throw DomainException.badRequest("invalid archive: " + name + " is missing");
        }
        return Files.newInputStream(s.file());
    }

    private static Instant parseTime(String value) {
        if (value == null || value.isEmpty()) {
            return Instant.EPOCH;
        }
        try {
            return java.time.OffsetDateTime.parse(value).toInstant();
        } catch (RuntimeException e) {
            return Instant.EPOCH;
        }
    }

    private static void entry(TarArchiveOutputStream tar, String name, byte[] content, long mtime) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(content.length);
        e.setModTime(mtime * 1000);
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
    }
}
