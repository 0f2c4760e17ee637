package dev.berth.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.events.DomainException;
import dev.berth.image.domain.ImageCommand;
import dev.berth.image.domain.ImageConfigs;
import dev.berth.image.domain.ImageEvent.ImagePushed;
import dev.berth.image.domain.ImageEvent.Layer;
import dev.berth.image.domain.Reference;
import dev.berth.image.gc.Leases;
import dev.berth.image.persistence.ImageOperations;
import dev.berth.image.persistence.ImageService;
import dev.berth.image.store.BlobStore;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Manifest pushes: a Docker schema 2 or OCI image manifest whose config and layers the tenant has uploaded becomes an
 * image of the tenant ({@code dev.berth.image.pushed.v1}), tagged when pushed by tag. The manifest is stored byte for
 * byte, so a pull by its digest gets exactly what was pushed; layers are kept as pushed (gzip or plain) and each
 * must unpack as a tar before anything is appended. The config's {@code rootfs.diff_ids} are not compared with the
 * layers: a registry stores what a client pushes (the distribution conformance suite pushes a config listing no diff
 * ids beside a one-layer manifest), and a client that pulls such an image refuses it itself, as dockerd does. The
 * image's layers carry the diff id of their own content, so Berth runs exactly the layers the manifest names.
 */
@ApplicationScoped
public class Manifests {

    public static final String DOCKER_V2 = ImageOperations.MANIFEST_V2;
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    /** Manifests larger than this are refused (distribution's own limit is 4 MiB). */
    public static final int MAX_SIZE = 4 << 20;
    private static final Set<String> LAYER_TYPES = Set.of(
            "application/vnd.docker.image.rootfs.diff.tar.gzip", "application/vnd.docker.image.rootfs.diff.tar",
            "application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.oci.image.layer.v1.tar");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ImageService images;
    private final BlobStore blobs;
    private final PushedBlobs pushed;
    private final Leases leases;

    public Manifests(ImageService images, BlobStore blobs, PushedBlobs pushed, Leases leases) {
        this.images = images;
        this.blobs = blobs;
        this.pushed = pushed;
        this.leases = leases;
    }

    /** The result of a push: the manifest's digest and media type. */
    public record Pushed(String digest, String mediaType) {
    }

    /**
     * The media type of a stored manifest: its {@code mediaType} field, else (OCI makes it optional) OCI's.
     */
    public static String mediaType(byte[] manifest) {
        try {
            String type = JSON.readTree(manifest).path("mediaType").asText("");
            return type.isEmpty() ? OCI_MANIFEST : type;
        } catch (IOException e) {
            return DOCKER_V2;
        }
    }

    /**
     * Pushes a manifest (blocking).
     *
     * @param name        the repository as in the URL
     * @param reference   a tag, or the manifest's digest
     * @param contentType the request's {@code Content-Type} (may be null)
     * @throws RegistryException 400 MANIFEST_INVALID (not JSON, not an image manifest, a list or index, a config that
     *                           is not an image config, a layer that is not a tar or whose size is not the
     *                           descriptor's), 400 MANIFEST_BLOB_UNKNOWN (a referenced blob the tenant has
     *                           not uploaded), 400 DIGEST_INVALID (pushed by a digest that is not the body's),
     *                           400 NAME_INVALID / TAG_INVALID; nothing is stored then
     */
    public Pushed push(String tenant, String name, String reference, String contentType, byte[] body) {
        // the blobs the manifest names are leased before they are looked at: a concurrent removal of the image that
        // held them cannot collect them between the checks and the pushed event
        try (Leases.Lease lease = leases.open("manifest push")) {
            return push(lease, tenant, name, reference, contentType, body);
        }
    }

    private Pushed push(Leases.Lease lease, String tenant, String name, String reference, String contentType,
                        byte[] body) {
        String repository = repository(name);
        if (body.length > MAX_SIZE) {
            throw new RegistryException(413, "SIZE_INVALID", "manifest too large",
                    Map.of("size", body.length, "limit", MAX_SIZE));
        }
        String digest = BlobStore.digest(body);
        Reference tag = null;
        if (reference.startsWith("sha256:")) {
            if (!reference.equals(digest)) {
                throw RegistryException.digestInvalid("the manifest's digest is " + digest + ", not the reference",
                        reference);
            }
        } else {
            try {
                tag = new Reference(repository, Reference.tag(reference));
            } catch (DomainException e) {
                throw new RegistryException(400, "TAG_INVALID", "manifest tag did not match URI",
                        Map.of("tag", reference));
            }
        }
        JsonNode manifest;
        try {
            manifest = JSON.readTree(body);
        } catch (IOException e) {
            throw RegistryException.manifestInvalid("not JSON: " + e.getMessage());
        }
        if (manifest == null || !manifest.isObject()) {
            throw RegistryException.manifestInvalid("not a JSON object");
        }
        String mediaType = manifest.path("mediaType").asText("");
        String declared = contentType == null ? "" : contentType.split(";")[0].strip();
        if (mediaType.isEmpty()) {
            mediaType = declared.isEmpty() || declared.equals("application/json") ? OCI_MANIFEST : declared;
        } else if (!declared.isEmpty() && !declared.equals("application/json") && !declared.equals(mediaType)) {
            throw RegistryException.manifestInvalid("Content-Type " + declared + " but mediaType " + mediaType);
        }
        if (mediaType.equals(DOCKER_LIST) || mediaType.equals(OCI_INDEX)) {
            throw RegistryException.manifestInvalid("manifest lists and image indexes are not supported: push the image"
                    + " of one platform");
        }
        if (!mediaType.equals(DOCKER_V2) && !mediaType.equals(OCI_MANIFEST)) {
            throw RegistryException.manifestInvalid("unsupported manifest media type " + mediaType);
        }
        if (manifest.path("schemaVersion").asInt(0) != 2) {
            throw RegistryException.manifestInvalid("schemaVersion must be 2");
        }
        JsonNode configRef = manifest.path("config");
        String configDigest = configRef.path("digest").asText("");
        List<JsonNode> layerRefs = new ArrayList<>();
        manifest.path("layers").forEach(layerRefs::add);
        List<JsonNode> all = new ArrayList<>(List.of(configRef));
        all.addAll(layerRefs);
        lease.hold(all.stream().map(d -> d.path("digest").asText("")).filter(BlobStore::isDigest).toList());
        for (JsonNode d : all) {
            String blob = d.path("digest").asText("");
            if (!BlobStore.isDigest(blob)) {
                throw RegistryException.manifestInvalid("descriptor digest \"" + blob + "\" is not a sha256 digest");
            }
            boolean visible = Boolean.TRUE.equals(ImageOperations.await(() -> pushed.visible(tenant, blob)));
            if (!visible || !blobs.exists(blob)) {
                throw new RegistryException(400, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry",
                        Map.of("digest", blob));
            }
            if (d.has("size") && d.path("size").asLong(-1) != blobs.size(blob)) {
                throw RegistryException.manifestInvalid("descriptor of " + blob + " gives size " + d.path("size")
                        + ", the blob has " + blobs.size(blob) + " bytes");
            }
        }
        JsonNode config;
        try {
            config = ImageConfigs.read(blobs.read(configDigest));
        } catch (DomainException e) {
            throw RegistryException.manifestInvalid("config " + configDigest + ": " + e.getMessage());
        }
        List<Layer> layers = new ArrayList<>();
        long size = 0;
        for (int i = 0; i < layerRefs.size(); i++) {
            JsonNode d = layerRefs.get(i);
            String layerType = d.path("mediaType").asText("");
            String blob = d.path("digest").asText();
            if (!LAYER_TYPES.contains(layerType)) {
                throw RegistryException.manifestInvalid("layer " + blob + " has media type \"" + layerType
                        + "\"; supported: " + String.join(", ", LAYER_TYPES));
            }
            BlobStore.LayerContent content;
            try {
                content = blobs.describeLayer(blob);
            } catch (DomainException e) {
                throw RegistryException.manifestInvalid(e.getMessage());
            }
            layers.add(new Layer(blob, content.diffId(), blobs.size(blob), layerType, content.contentSize()));
            size += content.contentSize();
        }
        ImagePushed image = new ImagePushed(configDigest, configDigest, digest, mediaType, layers,
                ImageConfigs.runtime(config), config.path("architecture").asText(""), config.path("os").asText(""),
                config.path("comment").asText(""), created(config.path("created").asText(null)), size, List.of());
        lease.hold(digest);
        BlobStore.Staged staged = blobs.stageBytes(body);
        try {
            ImageOperations.await(() -> pushed.record(tenant, digest));
            blobs.commit(staged);
            Reference tagged = tag;
            ImageOperations.await(() -> images.handle(tenant, new ImageCommand.AddImage(image,
                    tagged == null ? List.of() : List.of(tagged))));
        } catch (RuntimeException e) {
            ImageOperations.await(() -> pushed.forget(tenant, digest).chain(() -> images.collect(List.of(digest))));
            throw e;
        } finally {
            blobs.discard(staged);
        }
        Set<String> held = new LinkedHashSet<>(ImageService.digests(image));
        ImageOperations.await(() -> pushed.release(tenant, held));
        return new Pushed(digest, mediaType);
    }

    /**
     * Normalises a repository name from a registry URL.
     *
     * @throws RegistryException 400 NAME_INVALID
     */
    public static String repository(String name) {
        try {
            return Reference.repository(name);
        } catch (DomainException e) {
            throw RegistryException.nameInvalid(name, e.getMessage());
        }
    }

    private static Instant created(String value) {
        if (value == null || value.isEmpty()) {
            return Instant.EPOCH;
        }
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (RuntimeException e) {
            return Instant.EPOCH;
        }
    }
}
