package dev.berth.image.remote;

import dev.berth.image.domain.ImageCommand;
import dev.berth.image.domain.ImageEvent.Layer;
import dev.berth.image.persistence.ImageOperations;
import dev.berth.image.persistence.ImageService;
import dev.berth.image.projection.ImageRows;
import dev.berth.image.projection.ImageView;
import dev.berth.image.store.BlobStore;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * One {@code docker push}: the local images were found before the answer started ({@link RemoteImages#preparePush});
 * {@link #run} opens the registry session and streams Docker's progress messages, errors included.
 *
 * <p>Blobs go up as they are stored: layers uncompressed ({@code application/vnd.docker.image.rootfs.diff.tar}, valid
 * in a schema 2 manifest), then the config, then Berth's own manifest, so the registry's manifest digest equals the
 * image's {@code manifestDigest}. A blob the repository already has ({@code HEAD} 200) is not sent again.
 */
public final class ImagePush {

    private final RemoteReference repository;
    private final Map<String, ImageView> byTag;
    private final RegistryCredentials credentials;
    private final RegistryClient client;
    private final BlobStore blobs;
    private final ImageService images;
    private final String tenant;

    ImagePush(RemoteReference repository, Map<String, ImageView> byTag, RegistryCredentials credentials,
              RegistryClient client, BlobStore blobs, ImageService images, String tenant) {
        this.repository = repository;
        this.byTag = byTag;
        this.credentials = credentials;
        this.client = client;
        this.blobs = blobs;
        this.images = images;
        this.tenant = tenant;
    }

    public void run(OutputStream out) {
        ProgressStream progress = new ProgressStream(out);
        try {
            progress.status("The push refers to repository [" + repository.fullName() + "]");
            RegistrySession session = client.open(repository, credentials, true);
            for (Map.Entry<String, ImageView> e : byTag.entrySet()) {
                push(session, e.getKey(), e.getValue(), progress);
            }
        } catch (RuntimeException e) {
            progress.error(e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    private void push(RegistrySession session, String tag, ImageView image, ProgressStream progress) {
        List<Layer> layers = new ArrayList<>(ImageRows.layers(image.layersJson));
        Collections.reverse(layers);
        for (Layer l : layers) {
            progress.layer("Preparing", ProgressStream.shortId(l.diffId()));
        }
        for (Layer l : layers) {
            String id = ProgressStream.shortId(l.diffId());
            if (session.hasBlob(l.digest())) {
                progress.layer("Layer already exists", id);
                continue;
            }
            long size = blobs.size(l.digest());
            progress.progress("Pushing", id, 0, size);
            upload(session, l.digest(), size);
            progress.progress("Pushing", id, size, size);
            progress.layer("Pushed", id);
        }
        if (!session.hasBlob(image.id)) {
            upload(session, image.id, blobs.size(image.id));
        }
        byte[] manifest = blobs.read(image.manifestDigest);
        String digest = session.putManifest(tag, ImageOperations.MANIFEST_V2, manifest);
        // as dockerd, the image now shows the registry's name for it in RepoDigests
        String repoDigest = repository.familiarName() + "@" + digest;
        ImageOperations.await(() -> images.handle(tenant, new ImageCommand.RecordRepoDigest(image.id, repoDigest)));
        progress.status(tag + ": digest: " + digest + " size: " + manifest.length);
        progress.pushed(tag, digest, manifest.length);
    }

    private void upload(RegistrySession session, String digest, long size) {
        session.upload(digest, size, () -> {
            try {
                return Files.newInputStream(blobs.path(digest));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read blob " + digest, e);
            }
        });
    }
}
