package dev.berth.image.api;

import dev.berth.engineapi.Filters;
import dev.berth.engineapi.GoBool;
import dev.berth.engineapi.Tenants;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.events.DomainException;
import dev.berth.image.domain.ImageCommand;
import dev.berth.image.domain.ImageEvent;
import dev.berth.image.domain.ImageEvent.ImageDeleted;
import dev.berth.image.domain.ImageEvent.ImageUntagged;
import dev.berth.image.domain.Reference;
import dev.berth.image.persistence.ImageOperations;
import dev.berth.image.persistence.ImageService;
import dev.berth.image.projection.ImageRows;
import dev.berth.image.projection.ImageView;
import dev.berth.image.remote.ImagePull;
import dev.berth.image.remote.ImagePush;
import dev.berth.image.remote.RemoteImages;
import dev.berth.image.store.BlobStore;
import io.smallrye.common.annotation.Blocking;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** The image endpoints of the Docker Engine API (paths without {@code /vX.Y}, which the gateway strips). */
@Path("/images")
@Produces(MediaType.APPLICATION_JSON)
public class ImagesResource {

    private static final Set<String> LIST_FILTERS = Set.of("before", "dangling", "label", "reference", "since",
            "until");
    private static final Set<String> PRUNE_FILTERS = Set.of("dangling", "label", "label!", "until");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ImageService images;
    private final ImageOperations operations;
    private final BlobStore blobs;
    private final RemoteImages remotes;

    public ImagesResource(ImageService images, ImageOperations operations, BlobStore blobs, RemoteImages remotes) {
        this.images = images;
        this.operations = operations;
        this.blobs = blobs;
        this.remotes = remotes;
    }

    @GET
    @Path("/json")
    public Uni<List<Map<String, Object>>> list(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                               @QueryParam("all") String all,
                                               @QueryParam("digests") String digests,
                                               @QueryParam("shared-size") String sharedSize,
                                               @QueryParam("filters") String rawFilters) {
        String tenant = Tenants.of(tenantHeader);
        GoBool.parse("all", all, false);
        GoBool.parse("digests", digests, false);
        GoBool.parse("shared-size", sharedSize, false);
        Filters filters = Filters.parse(rawFilters, LIST_FILTERS);
        Boolean dangling = filters.bool("dangling");
        return images.list(tenant).map(rows -> {
            Instant before = bound(rows, filters, "before");
            Instant since = bound(rows, filters, "since");
            Instant until = filters.until();
            List<Map<String, Object>> out = new ArrayList<>();
            for (ImageView row : rows) {
                List<String> tags = ImageRows.strings(row.repoTags);
                Map<String, String> labels = ImageRows.stringMap(row.labelsJson);
                if (!filters.matchLabels("label", labels) || dangling != null && dangling != tags.isEmpty()
                        || before != null && !row.createdAt.isBefore(before)
                        || since != null && !row.createdAt.isAfter(since)
                        || until != null && row.createdAt.isAfter(until)) {
                    continue;
                }
                if (filters.contains("reference")) {
                    tags = tags.stream().filter(t -> matchesReference(filters.get("reference"), t)).toList();
                    if (tags.isEmpty()) {
                        continue;
                    }
                }
                Map<String, Object> image = new LinkedHashMap<>();
                image.put("Containers", -1);
                image.put("Created", row.createdAt.getEpochSecond());
                image.put("Id", row.id);
                image.put("Labels", labels.isEmpty() ? null : labels);
                image.put("ParentId", row.parentId);
                List<String> repoDigests = ImageRows.strings(row.repoDigests);
                // dockerd lists null, not [], for an image no registry knows (docker-api-traces.md)
                image.put("RepoDigests", repoDigests.isEmpty() ? null : repoDigests);
                image.put("RepoTags", tags);
                image.put("SharedSize", -1);
                image.put("Size", row.size);
                image.put("VirtualSize", row.size);
                out.add(image);
            }
            return out;
        });
    }

    @GET
    @Path("/{name: .+}/json")
    public Uni<Map<String, Object>> inspect(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                            @PathParam("name") String name) {
        String tenant = Tenants.of(tenantHeader);
        return images.resolve(tenant, name).emitOn(Infrastructure.getDefaultWorkerPool()).map(r -> {
            ImageView v = r.image();
            JsonNode config = ImageConfigsJson.read(blobs.read(v.id));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("Id", v.id);
            out.put("RepoTags", ImageRows.strings(v.repoTags));
            out.put("RepoDigests", ImageRows.strings(v.repoDigests));
            out.put("Parent", v.parentId);
            out.put("Comment", config.path("comment").asText(""));
            out.put("Created", config.path("created").asText(""));
            out.put("Container", config.path("container").asText(""));
            out.put("ContainerConfig", config.has("container_config") ? config.get("container_config")
                    : dev.berth.image.domain.ImageConfigs.emptyContainerConfig());
            out.put("DockerVersion", config.path("docker_version").asText(""));
            out.put("Author", config.path("author").asText(""));
            out.put("Config", config.get("config"));
            out.put("Architecture", v.architecture);
            if (config.has("variant")) {
                out.put("Variant", config.get("variant").asText());
            }
            out.put("Os", v.os);
            out.put("Size", v.size);
            out.put("VirtualSize", v.size);
            out.put("GraphDriver", Map.of("Data", Map.of(), "Name", "overlay2"));
            List<String> diffIds = new ArrayList<>();
            ImageRows.layers(v.layersJson).forEach(l -> diffIds.add(l.diffId()));
            out.put("RootFS", Map.of("Type", "layers", "Layers", diffIds));
            Map<String, Object> metadata = new LinkedHashMap<>();
            metadata.put("LastTagTime", v.lastTagTime == null ? "0001-01-01T00:00:00Z" : v.lastTagTime.toString());
            out.put("Metadata", metadata);
            return out;
        });
    }

    @GET
    @Path("/{name: .+}/history")
    public Uni<List<Map<String, Object>>> history(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                                  @PathParam("name") String name) {
        String tenant = Tenants.of(tenantHeader);
        return images.resolve(tenant, name).emitOn(Infrastructure.getDefaultWorkerPool()).map(r -> {
            ImageView v = r.image();
            JsonNode config = ImageConfigsJson.read(blobs.read(v.id));
            List<ImageEvent.Layer> layers = ImageRows.layers(v.layersJson);
            List<Map<String, Object>> out = new ArrayList<>();
            int layer = 0;
            for (JsonNode h : config.path("history")) {
                boolean empty = h.path("empty_layer").asBoolean(false);
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("Comment", h.path("comment").asText(""));
                entry.put("Created", time(h.path("created").asText("")).getEpochSecond());
                entry.put("CreatedBy", h.path("created_by").asText(""));
                entry.put("Id", "<missing>");
                entry.put("Size", empty || layer >= layers.size() ? 0 : layers.get(layer).unpackedSize());
                entry.put("Tags", null);
                if (!empty) {
                    layer++;
                }
                out.add(0, entry);
            }
            if (out.isEmpty()) {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("Comment", v.comment);
                entry.put("Created", v.createdAt.getEpochSecond());
                entry.put("CreatedBy", "");
                entry.put("Size", v.size);
                out.add(entry);
            }
            out.get(0).put("Id", v.id);
            List<String> tags = ImageRows.strings(v.repoTags);
            out.get(0).put("Tags", tags.isEmpty() ? null : tags);
            return out;
        });
    }

    /**
     * {@code docker import} ({@code fromSrc=-}, the body is the rootfs tar) and {@code docker pull} ({@code fromImage},
     * with {@code tag}; credentials in {@code X-Registry-Auth}).
     */
    @POST
    @Path("/create")
    @Blocking
    public Response create(@HeaderParam(Tenants.HEADER) String tenantHeader,
                           @QueryParam("fromSrc") String fromSrc,
                           @QueryParam("fromImage") String fromImage,
                           @QueryParam("repo") String repo,
                           @QueryParam("tag") String tag,
                           @QueryParam("changes") List<String> changes,
                           @QueryParam("message") String message,
                           @HeaderParam("X-Registry-Auth") String registryAuth,
                           InputStream body) {
        String tenant = Tenants.of(tenantHeader);
        if (fromImage != null && !fromImage.isEmpty()) {
            ImagePull pull = remotes.preparePull(tenant, fromImage, tag, registryAuth);
            return Response.ok((StreamingOutput) pull::run, MediaType.APPLICATION_JSON).build();
        }
        if (!"-".equals(fromSrc)) {
            if (fromSrc == null || fromSrc.isEmpty()) {
                throw DomainException.badRequest("either fromSrc or fromImage must be given");
            }
            throw DomainException.badRequest("importing from a URL is not supported: send the archive as the body"
                    + " with fromSrc=-");
        }
        Reference reference = null;
        if (repo != null && !repo.isEmpty()) {
            Reference parsed = Reference.parse(repo);
            boolean hasTag = repo.lastIndexOf(':') > repo.lastIndexOf('/');
            reference = hasTag || tag == null || tag.isEmpty() ? parsed
                    : new Reference(parsed.repository(), Reference.tag(tag));
        }
        String id = operations.importImage(tenant, body, reference, changes == null ? List.of() : changes, message);
        return Response.ok("{\"status\":\"" + id + "\"}\r\n", MediaType.APPLICATION_JSON).build();
    }

    /** {@code docker push}: {@code name} is the repository, {@code tag} one of its tags (empty: all of them). */
    @POST
    @Path("/{name: .+}/push")
    @Blocking
    public Response push(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("name") String name,
                         @QueryParam("tag") String tag, @HeaderParam("X-Registry-Auth") String registryAuth) {
        ImagePush push = remotes.preparePush(Tenants.of(tenantHeader), name, tag, registryAuth);
        return Response.ok((StreamingOutput) push::run, MediaType.APPLICATION_JSON).build();
    }

    /** {@code docker load}: a save archive as the body, answered with Docker's JSONMessage lines. */
    @POST
    @Path("/load")
    @Blocking
    public Response load(@HeaderParam(Tenants.HEADER) String tenantHeader, @QueryParam("quiet") String quiet,
                         InputStream body) {
        String tenant = Tenants.of(tenantHeader);
        GoBool.parse("quiet", quiet, false);
        StringBuilder out = new StringBuilder();
        for (String line : operations.load(tenant, body)) {
            out.append("{\"stream\":").append(quote(line + "\n")).append("}\r\n");
        }
        return Response.ok(out.toString(), MediaType.APPLICATION_JSON).build();
    }

    /** {@code docker save}: the named images as one legacy-layout tar. */
    @GET
    @Path("/get")
    @Blocking
    @Produces("application/x-tar")
    public Response save(@HeaderParam(Tenants.HEADER) String tenantHeader, @QueryParam("names") List<String> names) {
        String tenant = Tenants.of(tenantHeader);
        if (names == null || names.isEmpty()) {
            throw DomainException.badRequest("no images given: names is required");
        }
        List<ImageView> rows = ImageOperations.await(() -> images.list(tenant));
        List<ImageService.Resolved> resolved = new ArrayList<>();
        for (String n : names) {
            resolved.add(ImageService.resolve(rows, n));
        }
        StreamingOutput stream = out -> operations.save(resolved, out);
        return Response.ok(stream, "application/x-tar").build();
    }

    @POST
    @Path("/{name: .+}/tag")
    public Uni<Response> tag(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("name") String name,
                             @QueryParam("repo") String repo, @QueryParam("tag") String tag) {
        String tenant = Tenants.of(tenantHeader);
        if (repo == null || repo.isEmpty()) {
            throw DomainException.badRequest("repository name must have at least one component");
        }
        Reference parsed = Reference.parse(repo);
        boolean repoHasTag = repo.lastIndexOf(':') > repo.lastIndexOf('/');
        Reference target = repoHasTag && (tag == null || tag.isEmpty()) ? parsed
                : new Reference(Reference.repository(repoHasTag ? repo.substring(0, repo.lastIndexOf(':')) : repo),
                Reference.tag(tag));
        return images.resolve(tenant, name)
                .chain(r -> images.handle(tenant, new ImageCommand.TagImage(r.image().id, target)))
                .map(d -> Response.status(201).build());
    }

    @DELETE
    @Path("/{name: .+}")
    public Uni<List<Map<String, String>>> remove(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                                 @PathParam("name") String name, @QueryParam("force") String force,
                                                 @QueryParam("noprune") String noprune) {
        String tenant = Tenants.of(tenantHeader);
        boolean forced = GoBool.parse("force", force, false);
        GoBool.parse("noprune", noprune, false);
        return images.list(tenant).chain(rows -> {
            ImageService.Resolved r = ImageService.resolve(rows, name);
            String id = r.image().id;
            return images.users(tenant, id, false).chain(users -> images.users(tenant, id, true).chain(running ->
                    images.handle(tenant, new ImageCommand.RemoveImage(id, r.byName(), name, forced, users, running))))
                    .chain(d -> {
                        List<Map<String, String>> out = report(d.events(), rows);
                        List<String> digests = deletedDigests(d.events(), rows);
                        return images.collect(digests).emitOn(Infrastructure.getDefaultWorkerPool()).replaceWith(out);
                    });
        });
    }

    @POST
    @Path("/prune")
    public Uni<Map<String, Object>> prune(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                          @QueryParam("filters") String rawFilters) {
        String tenant = Tenants.of(tenantHeader);
        Filters filters = Filters.parse(rawFilters, PRUNE_FILTERS);
        Boolean danglingFilter = filters.bool("dangling");
        boolean danglingOnly = danglingFilter == null || danglingFilter;
        Instant until = filters.until();
        return images.list(tenant).chain(rows -> images.usedImages(tenant).chain(used -> {
            List<String> chosen = new ArrayList<>();
            for (ImageView v : rows) {
                Map<String, String> labels = ImageRows.stringMap(v.labelsJson);
                boolean tagged = !ImageRows.strings(v.repoTags).isEmpty();
                if (used.contains(v.id) || danglingOnly && tagged || !filters.matchLabels("label", labels)
                        || !filters.matchNoLabel("label!", labels) || until != null && v.createdAt.isAfter(until)) {
                    continue;
                }
                chosen.add(v.id);
            }
            if (chosen.isEmpty()) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("ImagesDeleted", null);
                out.put("SpaceReclaimed", 0);
                return Uni.createFrom().item(out);
            }
            return images.handle(tenant, new ImageCommand.DeleteImages(chosen)).chain(d -> {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("ImagesDeleted", report(d.events(), rows));
                // as Docker: the bytes of the content actually freed, not of layers other images still hold
                return images.reclaim(deletedDigests(d.events(), rows)).emitOn(Infrastructure.getDefaultWorkerPool())
                        .map(freed -> {
                            out.put("SpaceReclaimed", freed);
                            return out;
                        });
            });
        }));
    }

    /** Docker's answer to a removal: Untagged entries, then the image and its layer chain ids no image still uses. */
    private static List<Map<String, String>> report(List<ImageEvent> events, List<ImageView> rows) {
        List<Map<String, String>> out = new ArrayList<>();
        Set<String> deleted = new LinkedHashSet<>();
        for (ImageEvent e : events) {
            if (e instanceof ImageDeleted d) {
                deleted.add(d.imageId());
            }
        }
        Set<String> kept = new LinkedHashSet<>();
        for (ImageView v : rows) {
            if (!deleted.contains(v.id)) {
                kept.addAll(chainIds(v));
            }
        }
        for (ImageEvent e : events) {
            if (e instanceof ImageUntagged u) {
                out.add(Map.of("Untagged", u.reference()));
            } else if (e instanceof ImageDeleted d) {
                out.add(Map.of("Deleted", d.imageId()));
                rows.stream().filter(v -> v.id.equals(d.imageId())).findFirst().ifPresent(v -> {
                    List<String> chain = chainIds(v);
                    for (int i = chain.size() - 1; i >= 0; i--) {
                        if (kept.add(chain.get(i))) {
                            out.add(Map.of("Deleted", chain.get(i)));
                        }
                    }
                });
            }
        }
        return out;
    }

    private static List<String> deletedDigests(List<ImageEvent> events, List<ImageView> rows) {
        List<String> digests = new ArrayList<>();
        for (ImageEvent e : events) {
            if (e instanceof ImageDeleted d) {
                rows.stream().filter(v -> v.id.equals(d.imageId())).findFirst()
                        .ifPresent(v -> digests.addAll(ImageService.digests(v)));
            }
        }
        return digests;
    }

    /** Docker's layer chain ids: the first diff id, then sha256 of "parent-chain-id diff-id". */
    static List<String> chainIds(ImageView v) {
        List<String> out = new ArrayList<>();
        String chain = null;
        for (ImageEvent.Layer l : ImageRows.layers(v.layersJson)) {
            chain = chain == null ? l.diffId() : sha256(chain + " " + l.diffId());
            out.add(chain);
        }
        return out;
    }

    private static String sha256(String s) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Instant bound(List<ImageView> rows, Filters filters, String key) {
        if (!filters.contains(key)) {
            return null;
        }
        String name = filters.get(key).iterator().next();
        return ImageService.resolve(rows, name).image().createdAt;
    }

    /** Docker's glob match of a reference filter against {@code repo:tag}, or against the repository alone. */
    static boolean matchesReference(Set<String> patterns, String familiar) {
        String repository = familiar.substring(0, familiar.lastIndexOf(':'));
        for (String p : patterns) {
            Pattern glob = glob(p);
            if (glob.matcher(familiar).matches() || glob.matcher(repository).matches()) {
                return true;
            }
        }
        return false;
    }

    private static Pattern glob(String pattern) {
        StringBuilder re = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            switch (c) {
                case '*' -> re.append("[^/]*");
                case '?' -> re.append("[^/]");
                case '[', ']' -> re.append(c);
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        try {
            return Pattern.compile(re.toString());
        } catch (RuntimeException e) {
            throw DomainException.badRequest("invalid reference filter: " + pattern);
        }
    }

    private static Instant time(String value) {
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (RuntimeException e) {
            return Instant.EPOCH;
        }
    }

    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads a stored config; a blob that is not JSON is a server fault. */
    private static final class ImageConfigsJson {
        static JsonNode read(byte[] bytes) {
            try {
                return JSON.readTree(bytes);
            } catch (Exception e) {
                throw new IllegalStateException("stored image config is not JSON", e);
            }
        }
    }
}
