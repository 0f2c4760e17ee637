package dev.berth.image.api;

import dev.berth.engineapi.Tenants;
import dev.berth.events.DomainException;
import dev.berth.image.domain.ImageCommand;
import dev.berth.image.domain.ImageDecider;
import dev.berth.image.domain.Reference;
import dev.berth.image.persistence.ImageOperations;
import dev.berth.image.persistence.ImageService;
import dev.berth.image.projection.ImageRows;
import dev.berth.image.projection.ImageView;
import dev.berth.image.registry.Manifests;
import dev.berth.image.registry.PushedBlobs;
import dev.berth.image.registry.RegistryErrors;
import dev.berth.image.registry.RegistryException;
import dev.berth.image.registry.Repositories;
import dev.berth.image.registry.Uploads;
import dev.berth.image.store.BlobStore;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HEAD;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PATCH;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The OCI distribution API at {@code /v2/}: pull (node agents, {@code docker pull}, {@code skopeo}), push (monolithic
 * and chunked blob uploads, cross-repository mounts, manifests), tag listing, catalog and deletion. Each tenant (from
 * {@code X-Berth-Tenant}) sees only its own images and uploads; a manifest or blob of the tenant is served under any
 * of its repository names. Errors have the registry's shape, {@code {"errors":[{"code","message","detail"}]}}.
 */
@Path("/v2")
public class RegistryResource {

    private static final String API_VERSION = RegistryErrors.API_VERSION;
    private static final String DIGEST = "Docker-Content-Digest";
    private static final String UPLOAD_UUID = "Docker-Upload-UUID";

    private final ImageService images;
    private final BlobStore blobs;
    private final PushedBlobs pushed;
    private final Uploads uploads;
    private final Manifests manifests;
    private final Repositories repositories;

    public RegistryResource(ImageService images, BlobStore blobs, PushedBlobs pushed, Uploads uploads,
                            Manifests manifests, Repositories repositories) {
        this.images = images;
        this.blobs = blobs;
        this.pushed = pushed;
        this.uploads = uploads;
        this.manifests = manifests;
        this.repositories = repositories;
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
        return pushed.visible(tenant, digest).emitOn(Infrastructure.getDefaultWorkerPool()).map(visible -> {
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

    /**
     * Deletes a blob the tenant uploaded and no image of it holds (202; the file goes when no one else references it).
     * A blob an image of the tenant holds is refused with 405 UNSUPPORTED (delete the manifest first: its blobs then
     * stay as uploads, see {@link #deleteManifest}); one the tenant cannot see is 404 BLOB_UNKNOWN.
     */
    @DELETE
    @Path("/{name: .+}/blobs/{digest}")
    @Blocking
    public Response deleteBlob(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("name") String name,
                               @PathParam("digest") String digest) {
        String tenant = Tenants.of(tenantHeader);
        Manifests.repository(name);
        if (!BlobStore.isDigest(digest)) {
            throw RegistryException.digestInvalid("provided digest is not a sha256 digest", digest);
        }
        if (Boolean.TRUE.equals(ImageOperations.await(() -> images.visible(tenant, digest)))) {
            throw new RegistryException(405, "UNSUPPORTED", "The operation is unsupported: blob " + digest
                    + " is part of an image; delete its manifest first", Map.of("digest", digest));
        }
        if (!Boolean.TRUE.equals(ImageOperations.await(() -> pushed.remove(tenant, digest)))) {
            throw RegistryException.blobUnknown(digest);
        }
        ImageOperations.await(() -> images.collect(List.of(digest)));
        return Response.accepted().header(API_VERSION, "registry/2.0").build();
    }

    /**
     * Starts an upload: with {@code digest} the body is the whole blob (201); with {@code mount} and {@code from} the
     * blob is linked when the tenant can already see it (201), else a session starts as without them (202).
     */
    @POST
    @Path("/{name: .+}/blobs/uploads{slash: /?}")
    @Blocking
    public Response startUpload(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("name") String name,
                                @QueryParam("digest") String digest, @QueryParam("mount") String mount,
                                @QueryParam("from") String from, InputStream body) {
        String tenant = Tenants.of(tenantHeader);
        String repository = Manifests.repository(name);
        if (mount != null && uploads.mount(tenant, mount)) {
            return created(repository, mount);
        }
        if (digest != null) {
            uploads.monolithic(tenant, body, digest);
            return created(repository, digest);
        }
        return session(Response.accepted(), uploads.start(tenant, repository)).build();
    }

    @PATCH
    @Path("/{name: .+}/blobs/uploads/{uuid}")
    @Blocking
    public Response patchUpload(@HeaderParam(Tenants.HEADER) String tenant, @PathParam("uuid") String uuid,
                                @HeaderParam("Content-Range") String range, InputStream body) {
        Uploads.Session s = uploads.get(Tenants.of(tenant), uuid);
        uploads.append(s, body, range);
        return session(Response.accepted(), s).build();
    }

    @PUT
    @Path("/{name: .+}/blobs/uploads/{uuid}")
    @Blocking
    public Response finishUpload(@HeaderParam(Tenants.HEADER) String tenant, @PathParam("name") String name,
                                 @PathParam("uuid") String uuid, @QueryParam("digest") String digest,
                                 InputStream body) {
        Uploads.Session s = uploads.get(Tenants.of(tenant), uuid);
        uploads.finish(s, body, digest);
        return created(s.repository(), digest);
    }

    @GET
    @Path("/{name: .+}/blobs/uploads/{uuid}")
    public Response uploadStatus(@HeaderParam(Tenants.HEADER) String tenant, @PathParam("uuid") String uuid) {
        return session(Response.noContent(), uploads.get(Tenants.of(tenant), uuid)).build();
    }

    @DELETE
    @Path("/{name: .+}/blobs/uploads/{uuid}")
    @Blocking
    public Response cancelUpload(@HeaderParam(Tenants.HEADER) String tenant, @PathParam("uuid") String uuid) {
        uploads.cancel(uploads.get(Tenants.of(tenant), uuid));
        return Response.noContent().header(API_VERSION, "registry/2.0").build();
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
        Map<String, String> detail = reference.startsWith("sha256:") ? Map.of("Digest", reference)
                : Map.of("Tag", reference);
        return find(tenant, name, reference).emitOn(Infrastructure.getDefaultWorkerPool()).map(v -> {
            if (v == null || !blobs.exists(v.manifestDigest)) {
                return error(404, "MANIFEST_UNKNOWN", "manifest unknown", detail);
            }
            byte[] content = blobs.read(v.manifestDigest);
            Response.ResponseBuilder r = Response.ok().type(Manifests.mediaType(content))
                    .header(DIGEST, v.manifestDigest).header("Etag", "\"" + v.manifestDigest + "\"")
                    .header(API_VERSION, "registry/2.0");
            return body ? r.entity(content).build() : r.header("Content-Length", content.length).build();
        });
    }

    /** The tenant's image a manifest reference names (a digest, or a tag of the repository), or null. */
    private Uni<ImageView> find(String tenant, String name, String reference) {
        if (reference.startsWith("sha256:")) {
            return BlobStore.isDigest(reference) ? images.byManifest(tenant, reference) : Uni.createFrom().nullItem();
        }
        Reference ref;
        try {
            ref = new Reference(Reference.repository(name), Reference.tag(reference));
        } catch (DomainException e) {
            return Uni.createFrom().nullItem();
        }
        return images.list(tenant).map(rows -> rows.stream()
                .filter(v -> ImageRows.strings(v.repoTags).contains(ref.familiar())).findFirst().orElse(null));
    }

    /** Pushes a manifest: the image becomes the tenant's (event {@code pushed}), tagged when pushed by tag. */
    @PUT
    @Path("/{name: .+}/manifests/{reference}")
    @Blocking
    public Response putManifest(@HeaderParam(Tenants.HEADER) String tenant, @PathParam("name") String name,
                                @PathParam("reference") String reference,
                                @HeaderParam("Content-Type") String contentType, InputStream body) {
        byte[] content;
        try {
            content = body.readNBytes(Manifests.MAX_SIZE + 1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Manifests.Pushed p = manifests.push(Tenants.of(tenant), name, reference, contentType, content);
        return Response.status(201).header("Location", "/v2/" + Manifests.repository(name) + "/manifests/" + p.digest())
                .header(DIGEST, p.digest()).header(API_VERSION, "registry/2.0").build();
    }

    /**
     * Deletes by tag (the tag goes, the image stays) or by digest (the image goes with all its tags, refused while a
     * container uses it).
     */
    @DELETE
    @Path("/{name: .+}/manifests/{reference}")
    @Blocking
    public Response deleteManifest(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("name") String name,
                                   @PathParam("reference") String reference) {
        String tenant = Tenants.of(tenantHeader);
        String repository = Manifests.repository(name);
        if (!reference.startsWith("sha256:")) {
            Reference ref;
            try {
                ref = new Reference(repository, Reference.tag(reference));
            } catch (DomainException e) {
                throw new RegistryException(400, "TAG_INVALID", "manifest tag did not match URI",
                        Map.of("tag", reference));
            }
            try {
                ImageOperations.await(() -> images.handle(tenant, new ImageCommand.UntagImage(ref)));
            } catch (DomainException e) {
                throw RegistryException.manifestUnknown(Map.of("Tag", reference));
            }
            return Response.accepted().header(API_VERSION, "registry/2.0").build();
        }
        ImageView v = BlobStore.isDigest(reference) ? ImageOperations.await(() -> images.byManifest(tenant, reference))
                : null;
        if (v == null) {
            throw RegistryException.manifestUnknown(Map.of("Digest", reference));
        }
        Set<String> users = ImageOperations.await(() -> images.users(tenant, v.id, false));
        if (!users.isEmpty()) {
            throw new RegistryException(409, "DENIED", "requested access to the resource is denied: image "
                    + ImageDecider.shortId(v.id) + " is used by container "
                    + ImageDecider.shortId(new TreeSet<>(users).first()), Map.of("Digest", reference));
        }
        // Like a registry, a deleted manifest leaves its config and layers in the repository until they are deleted
        // themselves: they become uploads of the tenant again (those another image still holds are released again).
        List<String> content = ImageService.digests(v).stream().filter(d -> !d.equals(v.manifestDigest)).toList();
        ImageOperations.await(() -> pushed.keep(tenant, content));
        try {
            ImageOperations.await(() -> images.handle(tenant, new ImageCommand.RemoveImage(v.id, null, reference, true,
                    Set.of(), Set.of())));
        } finally {
            ImageOperations.await(() -> pushed.release(tenant, content));
        }
        ImageOperations.await(() -> images.collect(ImageService.digests(v)));
        return Response.accepted().header(API_VERSION, "registry/2.0").build();
    }

    /**
     * The repository's tags, sorted and paginated; an empty list for a repository whose tags were all deleted, 404
     * NAME_UNKNOWN for one the tenant never tagged.
     */
    @GET
    @Path("/{name: .+}/tags/list")
    public Uni<Response> tags(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("name") String name,
                              @QueryParam("n") Integer n, @QueryParam("last") String last) {
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
            return tags;
        }).chain(tags -> (tags.isEmpty() ? repositories.known(tenant, repository) : Uni.createFrom().item(true))
                .map(known -> known
                        ? page(tags, n, last, "/v2/" + repository + "/tags/list",
                                list -> Map.of("name", repository, "tags", list))
                        : error(404, "NAME_UNKNOWN", "repository name not known to registry", Map.of("name", name))));
    }

    @GET
    @Path("/_catalog")
    public Uni<Response> catalog(@HeaderParam(Tenants.HEADER) String tenantHeader, @QueryParam("n") Integer n,
                                 @QueryParam("last") String last) {
        return images.list(Tenants.of(tenantHeader)).map(rows -> {
            TreeSet<String> repositories = new TreeSet<>();
            for (ImageView v : rows) {
                for (String t : ImageRows.strings(v.repoTags)) {
                    repositories.add(t.substring(0, t.lastIndexOf(':')));
                }
            }
            return page(repositories, n, last, "/v2/_catalog", list -> Map.of("repositories", list));
        });
    }

    /** One page of a sorted list, after {@code last}, at most {@code n}; a {@code Link} header names the next. */
    private static Response page(TreeSet<String> all, Integer n, String last,
                                 String path, java.util.function.Function<List<String>, Object> body) {
        if (n != null && n < 0) {
            throw new RegistryException(400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested",
                    Map.of("n", n));
        }
        List<String> after = List.copyOf(last == null ? all : all.tailSet(last, false));
        List<String> shown = n == null || n >= after.size() ? after : after.subList(0, n);
        Response.ResponseBuilder r = Response.ok(body.apply(shown), MediaType.APPLICATION_JSON)
                .header(API_VERSION, "registry/2.0");
        if (shown.size() < after.size() && !shown.isEmpty()) {
            r.header("Link", "<" + path + "?n=" + n + "&last="
                    + URLEncoder.encode(shown.get(shown.size() - 1), StandardCharsets.UTF_8) + ">; rel=\"next\"");
        }
        return r.build();
    }

    private static Response created(String repository, String digest) {
        return Response.status(201).header("Location", "/v2/" + repository + "/blobs/" + digest)
                .header(DIGEST, digest).header(API_VERSION, "registry/2.0").build();
    }

    private static Response.ResponseBuilder session(Response.ResponseBuilder r, Uploads.Session s) {
        return r.header("Location", Uploads.location(s)).header("Range", s.range()).header(UPLOAD_UUID, s.id())
                .header(API_VERSION, "registry/2.0");
    }

    private static Response error(int status, String code, String message, Object detail) {
        return RegistryErrors.response(new RegistryException(status, code, message, detail));
    }
}
