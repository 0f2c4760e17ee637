package dev.berth.image.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.events.DomainException;
import dev.berth.image.domain.ImageCommand;
import dev.berth.image.domain.ImageConfigs;
import dev.berth.image.domain.ImageEvent.ImagePulled;
import dev.berth.image.domain.ImageEvent.Layer;
import dev.berth.image.gc.Leases;
import dev.berth.image.persistence.ImageOperations;
import dev.berth.image.persistence.ImageService;
import dev.berth.image.projection.ImageRows;
import dev.berth.image.projection.ImageView;
import dev.berth.image.store.BlobStore;
import dev.berth.image.store.ObservedInputStream;
import dev.berth.image.store.BlobStore.Staged;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * One {@code docker pull}, in two halves: {@link RemoteImages#preparePull} resolves the manifest before the answer
 * starts (so an unknown tag is a 404), {@link #run} streams the rest as Docker's progress messages.
 *
 * <p>Every blob is verified: the config against its digest, each layer against its compressed digest and size and,
 * once decompressed, against the config's diff id. Layers are stored uncompressed (docs/images.md). A layer is
 * reused ("Already exists") only when one of the tenant's own images holds it: another tenant's blob with the same
 * diff id is downloaded again, so a tenant can never claim content it did not prove it can fetch. Nothing is
 * recorded unless everything verified; a failure discards every staged blob.
 */
public final class ImagePull {

    static final Set<String> INDEX_TYPES = Set.of("application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.index.v1+json");
    static final Set<String> IMAGE_TYPES = Set.of("application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.manifest.v1+json");
    private static final Set<String> LAYER_TYPES = Set.of(
            "application/vnd.docker.image.rootfs.diff.tar.gzip", "application/vnd.docker.image.rootfs.diff.tar",
            "application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.oci.image.layer.v1.tar",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "application/vnd.oci.image.layer.nondistributable.v1.tar");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long PROGRESS_EVERY = 512 * 1024;

    private final String tenant;
    private final RemoteReference reference;
    private final RegistrySession session;
    private final RegistrySession.Manifest top;
    private final JsonNode manifest;
    private final ImageService images;
    private final ImageOperations operations;
    private final BlobStore blobs;

    ImagePull(String tenant, RemoteReference reference, RegistrySession session, RegistrySession.Manifest top,
              JsonNode manifest, ImageService images, ImageOperations operations, BlobStore blobs) {
        this.tenant = tenant;
        this.reference = reference;
        this.session = session;
        this.top = top;
        this.manifest = manifest;
        this.images = images;
        this.operations = operations;
        this.blobs = blobs;
    }

    /** The digest the registry gave the pulled reference (of the index, when it was one). */
    public String digest() {
        return top.digest();
    }

    /** Streams the pull; a failure is reported in the stream and leaves nothing behind. */
    public void run(OutputStream out) {
        ProgressStream progress = new ProgressStream(out);
        List<Staged> staged = new ArrayList<>();
        try {
            progress.status("Pulling from " + reference.path(), reference.manifestReference());
            String configDigest = manifest.path("config").path("digest").asText("");
            List<ImageView> rows = ImageOperations.await(() -> images.list(tenant));
            ImageView existing = rows.stream().filter(v -> v.id.equals(configDigest)).findFirst().orElse(null);
            boolean upToDate;
            if (existing != null) {
                String familiar = reference.localReference() == null ? null : reference.localReference().familiar();
                upToDate = familiar == null || ImageRows.strings(existing.repoTags).contains(familiar);
                if (!upToDate) {
                    ImageOperations.await(() -> images.handle(tenant,
                            new ImageCommand.TagImage(existing.id, reference.localReference())));
                }
                String repoDigest = reference.familiarName() + "@" + top.digest();
                if (!ImageRows.strings(existing.repoDigests).contains(repoDigest)) {
                    ImageOperations.await(() -> images.handle(tenant,
                            new ImageCommand.RecordRepoDigest(existing.id, repoDigest)));
                }
            } else {
                fetch(rows, configDigest, progress, staged);
                upToDate = false;
            }
            progress.status("Digest: " + top.digest());
            progress.status("Status: " + (upToDate ? "Image is up to date for " : "Downloaded newer image for ")
                    + reference.familiar());
        } catch (RuntimeException e) {
            progress.error(e.getMessage() == null ? e.toString() : e.getMessage());
        } finally {
            staged.forEach(blobs::discard);
        }
    }

    private void fetch(List<ImageView> rows, String configDigest, ProgressStream progress, List<Staged> staged) {
        // layers of the tenant's images are reused: the lease must hold them before the store is asked about them,
        // or a concurrent rmi and sweep could delete one between "Already exists" and the pulled event
        try (Leases.Lease lease = operations.lease("pull " + reference.familiar())) {
            fetch(lease, rows, configDigest, progress, staged);
        }
    }

    private void fetch(Leases.Lease lease, List<ImageView> rows, String configDigest, ProgressStream progress,
                       List<Staged> staged) {
        JsonNode layerDescriptors = manifest.path("layers");
        byte[] configBytes = config(configDigest, manifest.path("config").path("size").asLong(-1));
        JsonNode config = ImageConfigs.read(configBytes);
        List<String> diffIds = ImageConfigs.diffIds(config);
        if (diffIds.size() != layerDescriptors.size()) {
            throw new DomainException(500, "layers from manifest don't match image configuration: the manifest lists "
                    + layerDescriptors.size() + " layers, the config " + diffIds.size());
        }
        lease.hold(diffIds.stream().filter(BlobStore::isDigest).toList());
        Staged configBlob = blobs.stageBytes(configBytes);
        staged.add(configBlob);
        List<Layer> layers = new ArrayList<>();
        List<Staged> mine = new ArrayList<>(List.of(configBlob));
        Layer[] owned = new Layer[diffIds.size()];
        for (int i = 0; i < diffIds.size(); i++) {
            owned[i] = ownedLayer(rows, diffIds.get(i));
            String id = ProgressStream.shortId(layerDescriptors.get(i).path("digest").asText(""));
            progress.layer(owned[i] != null ? "Already exists" : "Pulling fs layer", id);
        }
        long size = 0;
        for (int i = 0; i < diffIds.size(); i++) {
            Layer layer = owned[i];
            if (layer == null) {
                Staged s = download(layerDescriptors.get(i), diffIds.get(i), progress, staged);
                mine.add(s);
                layer = new Layer(s.digest(), s.digest(), s.size(), ImageOperations.LAYER_TAR, s.contentSize());
            }
            layers.add(layer);
            size += layer.unpackedSize();
        }
        Staged manifestBlob = blobs.stageBytes(ImageOperations.manifest(configBlob, layers));
        staged.add(manifestBlob);
        mine.add(manifestBlob);
        ImagePulled image = new ImagePulled(configDigest, configDigest, manifestBlob.digest(),
                ImageOperations.MANIFEST_V2, layers, ImageConfigs.runtime(config), config.path("architecture").asText(""),
                config.path("os").asText(""), config.path("comment").asText(""),
                created(config.path("created").asText("")), size, List.of(),
                List.of(reference.familiarName() + "@" + top.digest()));
        operations.add(lease, tenant, image, reference.localReference() == null ? List.of() : List.of(reference.localReference()),
                mine);
    }

    /** The layer as one of the tenant's images already holds it, or null. */
    private Layer ownedLayer(List<ImageView> rows, String diffId) {
        for (ImageView v : rows) {
            for (Layer l : ImageRows.layers(v.layersJson)) {
                if (l.diffId().equals(diffId) && l.digest().equals(diffId) && blobs.exists(diffId)) {
                    return l;
                }
            }
        }
        return null;
    }

    private byte[] config(String digest, long size) {
        if (!BlobStore.isDigest(digest)) {
            throw new DomainException(500, "manifest invalid: config digest \"" + digest + "\"");
        }
        byte[] content;
        try (InputStream in = session.blob(digest)) {
            content = in.readNBytes(size > 0 ? (int) Math.min(size + 1, 64 << 20) : 64 << 20);
        } catch (IOException e) {
            throw new DomainException(500, "failed to fetch image config " + digest + ": " + e.getMessage());
        }
        if (!BlobStore.digest(content).equals(digest)) {
            throw new DomainException(500, "image config verification failed for digest " + digest);
        }
        return content;
    }

    private Staged download(JsonNode descriptor, String diffId, ProgressStream progress, List<Staged> staged) {
        String digest = descriptor.path("digest").asText("");
        long size = descriptor.path("size").asLong(-1);
        String mediaType = descriptor.path("mediaType").asText("");
        String id = ProgressStream.shortId(digest);
        if (!BlobStore.isDigest(digest)) {
            throw new DomainException(500, "manifest invalid: layer digest \"" + digest + "\"");
        }
        if (!mediaType.isEmpty() && !LAYER_TYPES.contains(mediaType)) {
            throw new DomainException(500, "unsupported layer media type " + mediaType + " (layer " + digest + ")");
        }
        Staged s;
        try (Verifying in = new Verifying(session.blob(digest), size, progress, id)) {
            s = blobs.stageLayer(in);
            staged.add(s);
            in.transferTo(OutputStream.nullOutputStream());
            progress.layer("Verifying Checksum", id);
            if (!in.digest().equals(digest) || size >= 0 && in.count != size) {
                throw new DomainException(500, "filesystem layer verification failed for digest " + digest);
            }
        } catch (IOException e) {
            throw new DomainException(500, "failed to download layer " + digest + ": " + e.getMessage());
        }
        progress.layer("Download complete", id);
        if (!s.digest().equals(diffId)) {
            throw new DomainException(500, "layers from manifest don't match image configuration: layer " + digest
                    + " has diff id " + s.digest() + ", the config expects " + diffId);
        }
        progress.layer("Pull complete", id);
        return s;
    }

    private static Instant created(String value) {
        try {
            return value.isEmpty() ? Instant.EPOCH : OffsetDateTime.parse(value).toInstant();
        } catch (RuntimeException e) {
            return Instant.EPOCH;
        }
    }

    static JsonNode parse(byte[] manifest) {
        try {
            JsonNode n = JSON.readTree(manifest);
            if (n == null || !n.isObject()) {
                throw new RegistryException(500, "MANIFEST_INVALID", "manifest invalid: not a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw new RegistryException(500, "MANIFEST_INVALID", "manifest invalid: " + e.getMessage());
        }
    }

    /**
     * Digests and counts the compressed bytes as they arrive, refuses more than the manifest announced, and reports
     * Docker's {@code Downloading} progress.
     */
    private static final class Verifying extends ObservedInputStream {
        private final MessageDigest sha;
        private final long size;
        private final ProgressStream progress;
        private final String id;
        long count;
        private long reported;

        Verifying(InputStream in, long size, ProgressStream progress, String id) {
            super(in);
            this.size = size;
            this.progress = progress;
            this.id = id;
            try {
                this.sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        String digest() {
            return "sha256:" + HexFormat.of().formatHex(sha.digest());
        }

        @Override
        protected void observe(byte[] b, int off, int n) throws IOException {
            sha.update(b, off, n);
            count += n;
            if (size >= 0 && count > size) {
                throw new IOException("the registry sent more than the " + size + " bytes the manifest announced");
            }
            if (count - reported >= PROGRESS_EVERY || count == size) {
                reported = count;
                progress.progress("Downloading", id, count, size);
            }
        }
    }
}
