package dev.berth.image.remote;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.events.DomainException;
import dev.berth.image.domain.Reference;
import dev.berth.image.persistence.ImageOperations;
import dev.berth.image.persistence.ImageService;
import dev.berth.image.projection.ImageRows;
import dev.berth.image.projection.ImageView;
import dev.berth.image.store.BlobStore;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code docker pull} and {@code docker push} through Berth. Both run on worker threads. What can be refused before
 * the answer starts is refused with a status code (Docker's wording); what fails later is reported in the progress
 * stream.
 */
@ApplicationScoped
public class RemoteImages {

    private final RegistryClient client;
    private final ImageService images;
    private final ImageOperations operations;
    private final BlobStore blobs;

    public RemoteImages(RegistryClient client, ImageService images, ImageOperations operations, BlobStore blobs) {
        this.client = client;
        this.images = images;
        this.operations = operations;
        this.blobs = blobs;
    }

    /**
     * Resolves a pull up to the image manifest (an index is resolved to this machine's linux platform).
     *
     * @param fromImage  {@code name}, {@code name:tag} or {@code name@digest}
     * @param tag        a tag or a digest, or empty
     * @param authHeader {@code X-Registry-Auth}
     * @throws DomainException 400 for a bad reference; 404 {@code manifest for x:tag not found: manifest unknown:
     *                         ...} (and Docker's other not-found wordings); 401 when the registry refuses the
     *                         credentials; 500 when the registry cannot be reached
     */
    public ImagePull preparePull(String tenant, String fromImage, String tag, String authHeader) {
        RemoteReference ref = RemoteReference.parse(fromImage, tag);
        RegistryCredentials credentials = RegistryCredentials.fromHeader(authHeader);
        RegistrySession session;
        RegistrySession.Manifest top;
        try {
            session = client.open(ref, credentials, false);
            top = session.manifest(ref.manifestReference());
        } catch (RegistryException e) {
            throw notFound(ref, e);
        }
        RegistrySession.Manifest image = top;
        JsonNode parsed = ImagePull.parse(top.content());
        String type = top.mediaType().isEmpty() ? parsed.path("mediaType").asText("") : top.mediaType();
        if (ImagePull.INDEX_TYPES.contains(type) || type.isEmpty() && parsed.has("manifests")) {
            String digest = platform(parsed);
            try {
                image = session.manifest(digest);
            } catch (RegistryException e) {
                throw notFound(ref, e);
            }
            parsed = ImagePull.parse(image.content());
            type = image.mediaType().isEmpty() ? parsed.path("mediaType").asText("") : image.mediaType();
        }
        if (!ImagePull.IMAGE_TYPES.contains(type) && !(type.isEmpty() && parsed.has("config"))) {
            throw new DomainException(500, "unsupported manifest media type " + (type.isEmpty() ? "(none)" : type)
                    + " for " + ref.familiar());
        }
        return new ImagePull(tenant, ref, session, top, parsed, images, operations, blobs);
    }

    /**
     * Finds what a push sends: the image tagged {@code name:tag}, or every tag of the repository when {@code tag} is
     * empty.
     *
     * @throws DomainException 400 for a bad name; 404 {@code An image does not exist locally with the tag: name}
     */
    public ImagePush preparePush(String tenant, String name, String tag, String authHeader) {
        String repository = Reference.repository(name);
        RegistryCredentials credentials = RegistryCredentials.fromHeader(authHeader);
        List<ImageView> rows = ImageOperations.await(() -> images.list(tenant));
        Map<String, ImageView> byTag = new TreeMap<>();
        String wanted = tag == null || tag.isEmpty() ? null : Reference.tag(tag);
        for (ImageView v : rows) {
            for (String t : ImageRows.strings(v.repoTags)) {
                int colon = t.lastIndexOf(':');
                if (t.substring(0, colon).equals(repository) && (wanted == null || wanted.equals(t.substring(colon + 1)))) {
                    byTag.put(t.substring(colon + 1), v);
                }
            }
        }
        if (byTag.isEmpty()) {
            throw DomainException.notFound("An image does not exist locally with the tag: " + repository);
        }
        return new ImagePush(RemoteReference.of(repository, wanted, null), new LinkedHashMap<>(byTag), credentials,
                client, blobs, images, tenant);
    }

    /** The manifest of an index for this machine: linux and its architecture (Docker's default platform). */
    private static String platform(JsonNode index) {
        String arch = ImageOperations.architecture();
        for (JsonNode m : index.path("manifests")) {
            JsonNode p = m.path("platform");
            if (p.path("os").asText("").equals("linux") && p.path("architecture").asText("").equals(arch)) {
                return m.path("digest").asText();
            }
        }
        throw DomainException.notFound("no matching manifest for linux/" + arch + " in the manifest list entries");
    }

    /** Docker's wording of a registry's refusal of a manifest ({@code distribution/errors.go}). */
    private static DomainException notFound(RemoteReference ref, RegistryException e) {
        String code = e.code() == null ? "" : e.code();
        return switch (code) {
            case "MANIFEST_UNKNOWN", "NOT_FOUND" -> new RegistryException(404, code, "manifest for " + ref.familiar()
                    + " not found: " + e.getMessage());
            case "NAME_UNKNOWN" -> new RegistryException(404, code, "repository " + ref.familiarName()
                    + " not found: " + e.getMessage());
            case "DENIED" -> new RegistryException(404, code, "pull access denied for " + ref.familiarName()
                    + ", repository does not exist or may require 'docker login': " + e.getMessage());
            case "UNAUTHORIZED" -> ref.domain().equals(RemoteReference.DOCKER_HUB)
                    ? new RegistryException(404, code, "pull access denied for " + ref.familiarName()
                    + ", repository does not exist or may require 'docker login': " + e.getMessage())
                    : e;
            default -> e;
        };
    }
}
