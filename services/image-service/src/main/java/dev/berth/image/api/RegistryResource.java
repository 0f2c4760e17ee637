package dev.berth.image.api;

import dev.berth.engineapi.Tenants;
import dev.berth.events.DomainException;
import dev.berth.image.domain.Reference;
import dev.berth.image.persistence.ImageOperations;
import dev.berth.image.persistence.ImageService;
import dev.berth.image.projection.ImageRows;
import dev.berth.image.projection.ImageView;
import dev.berth.image.store.BlobStore;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HEAD;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The read half of the OCI distribution API, which node agents use to fetch manifests and layers. It serves a tenant
 * (from {@code X-Berth-Tenant}) only the blobs and manifests of its own images. Errors have the registry's shape,
 * {@code {"errors":[{"code","message","detail"}]}}.
 */
@Path("/v2")
public class RegistryResource {

    private static final String API_VERSION = "Docker-Distribution-Api-Version";
    private static final String DIGEST = "Docker-Content-Digest";

    private final ImageService images;
    private final BlobStore blobs;

    public RegistryResource(ImageService images, BlobStore blobs) {
        this.images = images;
        this.blobs = blobs;
    }

    @GET
    @Path("/")
    public Response base() {
        return Response.ok("{}", MediaType.APPLICATION_JSON).header(API_VERSION, "registry/2.0").build();
    }

    @GET
    @Path("/{name: .+}/blobs/{digest}")
    public Uni<Response> blob(@HeaderParam(Tenants.HEADER) String tenant, @PathParam("name") String name,
                              @PathParam("digest") String digest) {
        return blob(tenant, name, digest, true);
    }

    @HEAD
    @Path("/{name: .+}/blobs/{digest}")
    public Uni<Response> blobHead(@HeaderParam(Tenants.HEADER) String tenant, @PathParam("name") String name,
                                  @PathParam("digest") String digest) {
        return blob(tenant, name, digest, false);
    }

    private Uni<Response> blob(String tenantHeader, String name, String digest, boolean body) {
        String tenant = Tenants.of(tenantHeader);
        if (!BlobStore.isDigest(digest)) {
            return Uni.createFrom().item(error(400, "DIGEST_INVALID", "provided digest did not match uploaded content",
                    digest));
        }
        return images.visible(tenant, digest).emitOn(Infrastructure.getDefaultWorkerPool()).map(visible -> {
            if (!visible || !blobs.exists(digest)) {
                return error(404, "BLOB_UNKNOWN", "blob unknown to registry", digest);
            }
            Response.ResponseBuilder r = Response.ok().type(MediaType.APPLICATION_OCTET_STREAM)
                    .header(DIGEST, digest).header("Etag", "\"" + digest + "\"")
                    .header(API_VERSION, "registry/2.0");
            if (body) {
                return r.entity(blobs.path(digest).toFile()).build();
            }
            return r.header("Content-Length", blobs.size(digest)).build();
        });
    }

    @GET
    @Path("/{name: .+}/manifests/{reference}")
    public Uni<Response> manifest(@HeaderParam(Tenants.HEADER) String tenant, @PathParam("name") String name,
                                  @PathParam("reference") String reference) {
        return manifest(tenant, name, reference, true);
    }

    @HEAD
    @Path("/{name: .+}/manifests/{reference}")
    public Uni<Response> manifestHead(@HeaderParam(Tenants.HEADER) String tenant, @PathParam("name") String name,
                                      @PathParam("reference") String reference) {
        return manifest(tenant, name, reference, false);
    }

    private Uni<Response> manifest(String tenantHeader, String name, String reference, boolean body) {
        String tenant = Tenants.of(tenantHeader);
        Uni<ImageView> found;
        Map<String, String> detail;
        if (reference.startsWith("sha256:")) {
            detail = Map.of("Digest", reference);
            found = BlobStore.isDigest(reference) ? images.byManifest(tenant, reference) : Uni.createFrom().nullItem();
        } else {
            detail = Map.of("Tag", reference);
            Reference ref;
            try {
                ref = new Reference(Reference.repository(name), Reference.tag(reference));
            } catch (DomainException e) {
                return Uni.createFrom().item(error(404, "MANIFEST_UNKNOWN", "manifest unknown", detail));
            }
            found = images.list(tenant).map(rows -> rows.stream()
                    .filter(v -> ImageRows.strings(v.repoTags).contains(ref.familiar())).findFirst().orElse(null));
        }
        return found.emitOn(Infrastructure.getDefaultWorkerPool()).map(v -> {
            if (v == null || !blobs.exists(v.manifestDigest)) {
                return error(404, "MANIFEST_UNKNOWN", "manifest unknown", detail);
            }
            byte[] content = blobs.read(v.manifestDigest);
            Response.ResponseBuilder r = Response.ok().type(ImageOperations.MANIFEST_V2)
                    .header(DIGEST, v.manifestDigest).header("Etag", "\"" + v.manifestDigest + "\"")
                    .header(API_VERSION, "registry/2.0");
            return body ? r.entity(content).build() : r.header("Content-Length", content.length).build();
        });
    }

    @GET
    @Path("/{name: .+}/tags/list")
    public Uni<Response> tags(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("name") String name) {
        String tenant = Tenants.of(tenantHeader);
        String repository;
        try {
            repository = Reference.repository(name);
        } catch (DomainException e) {
            return Uni.createFrom().item(error(404, "NAME_UNKNOWN", "repository name not known to registry",
                    Map.of("name", name)));
        }
        return images.list(tenant).map(rows -> {
            TreeSet<String> tags = new TreeSet<>();
            for (ImageView v : rows) {
                for (String t : ImageRows.strings(v.repoTags)) {
                    int colon = t.lastIndexOf(':');
                    if (t.substring(0, colon).equals(repository)) {
                        tags.add(t.substring(colon + 1));
                    }
                }
            }
            if (tags.isEmpty()) {
                return error(404, "NAME_UNKNOWN", "repository name not known to registry", Map.of("name", name));
            }
            return Response.ok(Map.of("name", name, "tags", List.copyOf(tags)), MediaType.APPLICATION_JSON)
                    .header(API_VERSION, "registry/2.0").build();
        });
    }

    private static Response error(int status, String code, String message, Object detail) {
        return Response.status(status).type(MediaType.APPLICATION_JSON).header(API_VERSION, "registry/2.0")
                .entity(Map.of("errors", List.of(Map.of("code", code, "message", message, "detail", detail))))
                .build();
    }
}
