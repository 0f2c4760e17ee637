package dev.berth.image.domain;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.berth.events.EventType;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The facts of a tenant's image store. Their JSON form is a public contract (docs/images.md): container-service
 * resolves names to images, and node agents find layers, from these events alone.
 */
public sealed interface ImageEvent {

    /** The image every event is about, {@code sha256:<hex>} of its config. */
    String imageId();

    /**
     * A layer as stored. Imported, loaded and built layers are uncompressed tars, so {@code digest} equals
     * {@code diffId}; a layer pushed to the registry API is kept as pushed (often gzip), so its {@code digest} names
     * the compressed bytes and {@code diffId} the tar inside.
     *
     * @param digest    digest of the blob served at {@code /v2/<name>/blobs/<digest>}
     * @param diffId    digest of the uncompressed tar, as listed in the config's {@code rootfs.diff_ids}
     * @param size      blob size in bytes
     * @param mediaType    the manifest media type of the blob
     * @param unpackedSize Docker's layer size: the lstat sizes of its regular files and symbolic links
     */
    record Layer(String digest, String diffId, long size, String mediaType, long unpackedSize) {
    }

    /**
     * What a container takes from its image (Docker's config keys; null where the image sets nothing).
     */
    record RuntimeConfig(@JsonProperty("User") String User,
                         @JsonProperty("ExposedPorts") Map<String, Object> ExposedPorts,
                         @JsonProperty("Env") List<String> Env,
                         @JsonProperty("Cmd") List<String> Cmd,
                         @JsonProperty("Volumes") Map<String, Object> Volumes,
                         @JsonProperty("WorkingDir") String WorkingDir,
                         @JsonProperty("Entrypoint") List<String> Entrypoint,
                         @JsonProperty("Labels") Map<String, String> Labels,
                         @JsonProperty("StopSignal") String StopSignal) {
    }

    /** An image came into the store, from {@code docker import} or {@code docker load}. */
    sealed interface ImageAdded extends ImageEvent {
        String configDigest();

        String manifestDigest();

        String manifestMediaType();

        List<Layer> layers();

        RuntimeConfig config();

        String architecture();

        String os();

        String comment();

        Instant created();

        long size();

        List<String> repoTags();
    }

    /**
     * {@code docker import}: an image of one layer made from a rootfs tar.
     *
     * @param configDigest      equals {@code imageId}
     * @param manifestDigest    the Docker schema 2 manifest the registry API serves
     * @param manifestMediaType {@code application/vnd.docker.distribution.manifest.v2+json}
     * @param size              the sum of the layers' file sizes (Docker's {@code Size})
     * @param repoTags          the familiar {@code repository:tag} references it got (may be empty)
     */
    @EventType("dev.berth.image.imported.v1")
    record ImageImported(String imageId, String configDigest, String manifestDigest, String manifestMediaType,
                         List<Layer> layers, RuntimeConfig config, String architecture, String os, String comment,
                         Instant created, long size, List<String> repoTags) implements ImageAdded {
    }

    /** {@code docker load}: an image from a save archive (legacy or OCI layout). Fields as {@link ImageImported}. */
    @EventType("dev.berth.image.loaded.v1")
    record ImageLoaded(String imageId, String configDigest, String manifestDigest, String manifestMediaType,
                       List<Layer> layers, RuntimeConfig config, String architecture, String os, String comment,
                       Instant created, long size, List<String> repoTags) implements ImageAdded {
    }

    /**
     * {@code docker push} / {@code skopeo copy} into Berth's registry API: an image whose manifest, config and layer
     * blobs were uploaded by a client and are kept byte for byte. Fields as {@link ImageImported}; the manifest media
     * type is the pushed one (Docker schema 2 or OCI) and layers may be compressed.
     */
    @EventType("dev.berth.image.pushed.v1")
    record ImagePushed(String imageId, String configDigest, String manifestDigest, String manifestMediaType,
                       List<Layer> layers, RuntimeConfig config, String architecture, String os, String comment,
                       Instant created, long size, List<String> repoTags) implements ImageAdded {
    }

    /**
     * {@code docker pull}: an image fetched from a registry. Fields as {@link ImageImported}; its layers are stored
     * uncompressed, so {@code manifestDigest} names Berth's own manifest of them, while {@code repoDigests} keeps the
     * registry's name for what was pulled ({@code 127.0.0.1:5000/bb@sha256:...}, the digest of the registry's
     * manifest).
     */
    @EventType("dev.berth.image.pulled.v1")
    record ImagePulled(String imageId, String configDigest, String manifestDigest, String manifestMediaType,
                       List<Layer> layers, RuntimeConfig config, String architecture, String os, String comment,
                       Instant created, long size, List<String> repoTags, List<String> repoDigests)
            implements ImageAdded {
    }

    /**
     * {@code docker build}: an image made from a Dockerfile (one layer per filesystem step). Fields as
     * {@link ImageImported}; also appended, untagged, for the image a RUN step's container starts from.
     */
    @EventType("dev.berth.image.built.v1")
    record ImageBuilt(String imageId, String configDigest, String manifestDigest, String manifestMediaType,
                      List<Layer> layers, RuntimeConfig config, String architecture, String os, String comment,
                      Instant created, long size, List<String> repoTags) implements ImageAdded {
    }

    /** A reference ({@code repository:tag}, familiar form) now names the image. */
    @EventType("dev.berth.image.tagged.v1")
    record ImageTagged(String imageId, String reference) implements ImageEvent {
    }

    /** A reference no longer names the image (removed, or moved to another image by a tag/import/load). */
    @EventType("dev.berth.image.untagged.v1")
    record ImageUntagged(String imageId, String reference) implements ImageEvent {
    }

    /**
     * A registry holds the image under a manifest digest: {@code repoDigest} is {@code repository@sha256:...}
     * (familiar), as {@code RepoDigests} shows it. Appended after a {@code docker push}, and after a pull that found
     * the image already here; the first pull of an image carries its repo digests in {@link ImagePulled}.
     */
    @EventType("dev.berth.image.repo-digest-recorded.v1")
    record RepoDigestRecorded(String imageId, String repoDigest) implements ImageEvent {
    }

    /** The image is gone from the tenant's store; its references were untagged by earlier events. */
    @EventType("dev.berth.image.deleted.v1")
    record ImageDeleted(String imageId) implements ImageEvent {
    }
}
