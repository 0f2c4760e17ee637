package dev.berth.container.api;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.container.domain.ContainerSpec;
import dev.berth.container.persistence.ContainerRepository;
import dev.berth.container.persistence.ContainerService;
import dev.berth.container.projection.ContainerProjection;
import dev.berth.container.projection.ImageCatalog;
import dev.berth.container.projection.ContainerView;
import dev.berth.engineapi.Filters;
import dev.berth.engineapi.GoBool;
import dev.berth.engineapi.Tenants;
import dev.berth.events.DomainException;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The container endpoints of the Docker Engine API: create, list, inspect, rename, remove, prune. Writes go through
 * the container aggregate; reads come from the read model, which the same transaction updates.
 */
@Path("/containers")
@Produces(MediaType.APPLICATION_JSON)
public class ContainersResource {

    private static final Set<String> LIST_FILTERS = Set.of("ancestor", "before", "expose", "exited", "health", "id",
            "isolation", "is-task", "label", "name", "network", "publish", "since", "status", "volume");
    private static final Set<String> STATES = Set.of("created", "restarting", "running", "removing", "paused",
            "exited", "dead");
    private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {
    };
    private static final TypeReference<Map<String, Object>> OBJECT_MAP = new TypeReference<>() {
    };
    private static final TypeReference<ContainerSpec> SPEC = new TypeReference<>() {
    };
    // Go's zero time, what Docker reports for a container that never started or never finished.
    private static final String NEVER = "0001-01-01T00:00:00Z";

    private static final Set<String> PRUNE_FILTERS = Set.of("label", "label!", "until");

    private final ContainerRepository containers;
    private final ContainerService service;
    private final ImageCatalog images;
    private final ObjectMapper json;

    public ContainersResource(ContainerRepository containers, ContainerService service, ImageCatalog images,
                              ObjectMapper json) {
        this.containers = containers;
        this.service = service;
        this.images = images;
        this.json = json;
    }

    @POST
    @Path("/create")
    @Consumes(MediaType.WILDCARD)
    public Uni<Response> create(@HeaderParam(Tenants.HEADER) String tenantHeader, @QueryParam("name") String name,
                                String body) {
        String tenant = Tenants.of(tenantHeader);
        JsonNode request;
        try {
            request = body == null || body.isBlank() ? null : json.readTree(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw DomainException.badRequest("invalid JSON: " + e.getOriginalMessage());
        }
        if (request == null || !request.isObject()) {
            throw DomainException.badRequest("config cannot be empty in order to create a container");
        }
        String image = CreateRequest.image(request);
        String requested = name == null || name.isEmpty() ? null : name;
        return images.resolve(tenant, image)
                .map(found -> CreateRequest.spec(request, found.id(), found.config()))
                .chain(spec -> service.create(tenant, requested, spec))
                .map(id -> Response.status(201).type(MediaType.APPLICATION_JSON)
                        .entity(Map.of("Id", id, "Warnings", List.of())).build());
    }

    @GET
    @Path("/{ref}/json")
    public Uni<Map<String, Object>> inspect(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                            @PathParam("ref") String ref, @QueryParam("size") String size) {
        GoBool.parse("size", size, false);
        return found(Tenants.of(tenantHeader), ref).map(this::inspectJson);
    }

    @POST
    @Path("/{ref}/rename")
    public Uni<Response> rename(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("ref") String ref,
                                @QueryParam("name") String name) {
        return service.rename(Tenants.of(tenantHeader), ref, name).map(ignored -> Response.noContent().build());
    }

    @DELETE
    @Path("/{ref}")
    public Uni<Response> remove(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("ref") String ref,
                                @QueryParam("force") String force, @QueryParam("v") String volumes,
                                @QueryParam("link") String link) {
        boolean forced = GoBool.parse("force", force, false);
        GoBool.parse("v", volumes, false);
        if (GoBool.parse("link", link, false)) {
            throw DomainException.badRequest("Conflict, cannot remove the default link name of the container");
        }
        return service.remove(Tenants.of(tenantHeader), ref, forced).map(ignored -> Response.noContent().build());
    }

    @POST
    @Path("/prune")
    public Uni<Map<String, Object>> prune(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                          @QueryParam("filters") String rawFilters) {
        String tenant = Tenants.of(tenantHeader);
        Filters filters = Filters.parse(rawFilters, PRUNE_FILTERS);
        java.time.Instant until = filters.until();
        return containers.list(tenant).chain(rows -> {
            List<String> doomed = new ArrayList<>();
            for (ContainerView row : rows) {
                Map<String, String> labels = read(row.labelsJson, STRING_MAP);
                if ("running".equals(row.state) || "paused".equals(row.state) || "restarting".equals(row.state)
                        || !filters.matchLabels("label", labels) || !filters.matchNoLabel("label!", labels)
                        || until != null && !row.createdAt.isBefore(until)) {
                    continue;
                }
                doomed.add(row.id);
            }
            Uni<Void> chain = Uni.createFrom().voidItem();
            for (String id : doomed) {
                chain = chain.chain(() -> service.remove(tenant, id, false));
            }
            return chain.map(ignored -> {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("ContainersDeleted", doomed.isEmpty() ? null : doomed);
                out.put("SpaceReclaimed", 0);
                return out;
            });
        });
    }


    private Uni<ContainerView> found(String tenant, String ref) {
        return containers.find(tenant, ref).map(view -> {
            if (view == null) {
                throw DomainException.notFound("No such container: " + ref);
            }
            return view;
        });
    }

    private Map<String, Object> inspectJson(ContainerView row) {
        ContainerSpec spec = read(row.specJson, SPEC);
        List<String> line = spec.commandLine();
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("Id", row.id);
        c.put("Created", row.created);
        c.put("Path", line.isEmpty() ? "" : line.get(0));
        c.put("Args", line.size() > 1 ? line.subList(1, line.size()) : List.of());
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("Status", row.state);
        state.put("Running", false);
        state.put("Paused", false);
        state.put("Restarting", false);
        state.put("OOMKilled", false);
        state.put("Dead", false);
        state.put("Pid", 0);
        state.put("ExitCode", 0);
        state.put("Error", "");
        state.put("StartedAt", NEVER);
        state.put("FinishedAt", NEVER);
        c.put("State", state);
        c.put("Image", row.imageId);
        c.put("ResolvConfPath", "");
        c.put("HostnamePath", "");
        c.put("HostsPath", "");
        c.put("LogPath", "");
        c.put("Name", "/" + row.name);
        c.put("RestartCount", 0);
        c.put("Driver", "overlay2");
        c.put("Platform", "linux");
        c.put("MountLabel", "");
        c.put("ProcessLabel", "");
        c.put("AppArmorProfile", "");
        c.put("ExecIDs", null);
        c.put("HostConfig", ContainerJson.hostConfig(spec.host()));
        c.put("GraphDriver", Map.of("Data", Map.of(), "Name", "overlay2"));
        c.put("Mounts", ContainerProjection.mounts(spec.host().binds()));
        c.put("Config", ContainerJson.config(row.id, spec));
        Map<String, Object> networks = new LinkedHashMap<>();
        String network = ContainerProjection.networkName(spec.host().networkMode());
        if (!network.isEmpty()) {
            networks.put(network, ContainerProjection.endpoint());
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("Bridge", "");
        settings.put("SandboxID", "");
        settings.put("HairpinMode", false);
        settings.put("LinkLocalIPv6Address", "");
        settings.put("LinkLocalIPv6PrefixLen", 0);
        settings.put("Ports", Map.of());
        settings.put("SandboxKey", "");
        settings.put("SecondaryIPAddresses", null);
        settings.put("SecondaryIPv6Addresses", null);
        settings.put("EndpointID", "");
        settings.put("Gateway", "");
        settings.put("GlobalIPv6Address", "");
        settings.put("GlobalIPv6PrefixLen", 0);
        settings.put("IPAddress", "");
        settings.put("IPPrefixLen", 0);
        settings.put("IPv6Gateway", "");
        settings.put("MacAddress", "");
        settings.put("Networks", networks);
        c.put("NetworkSettings", settings);
        return c;
    }

    @GET
    @Path("/json")
    public Uni<List<Map<String, Object>>> list(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                               @QueryParam("all") String all,
                                               @QueryParam("limit") String limit,
                                               @QueryParam("size") String size,
                                               @QueryParam("filters") String rawFilters) {
        String tenant = Tenants.of(tenantHeader);
        boolean showAll = GoBool.parse("all", all, false);
        GoBool.parse("size", size, false);
        int max = parseLimit(limit);
        Filters filters = Filters.parse(rawFilters, LIST_FILTERS);
        for (String status : filters.get("status")) {
            if (!STATES.contains(status)) {
                throw DomainException.badRequest("invalid filter 'status=" + status + "'");
            }
        }
        // Docker lists every container when a status filter is given, even without all.
        boolean everything = showAll || filters.contains("status") || max > 0;
        return containers.list(tenant).map(rows -> {
            List<Map<String, Object>> out = new ArrayList<>();
            for (ContainerView row : rows) {
                Map<String, String> labels = read(row.labelsJson, STRING_MAP);
                if (!everything && !"running".equals(row.state)
                        || !filters.exactMatch("status", row.state)
                        || !filters.match("name", row.name) && !filters.match("name", "/" + row.name)
                        || filters.contains("id") && filters.get("id").stream().noneMatch(row.id::startsWith)
                        || !filters.matchLabels("label", labels)
                        || filters.contains("ancestor") && filters.get("ancestor").stream()
                        .noneMatch(a -> isAncestor(a, row))) {
                    continue;
                }
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("Id", row.id);
                c.put("Names", List.of("/" + row.name));
                c.put("Image", row.image);
                c.put("ImageID", row.imageId);
                c.put("Command", row.command);
                c.put("Created", row.createdAt.getEpochSecond());
                c.put("Labels", labels);
                c.put("State", row.state);
                c.put("Status", row.status);
                c.putAll(read(row.summaryJson, OBJECT_MAP));
                out.add(c);
                if (max > 0 && out.size() == max) {
                    break;
                }
            }
            return out;
        });
    }

    /** Whether a container was created from the image an {@code ancestor} filter names (reference or id). */
    private static boolean isAncestor(String ancestor, ContainerView row) {
        return ancestor.equals(row.image)
                || ImageCatalog.normalize(ancestor).equals(ImageCatalog.normalize(row.image))
                || ancestor.equals(row.imageId)
                || ancestor.matches("[0-9a-f]{1,64}") && row.imageId.startsWith("sha256:" + ancestor);
    }

    private static int parseLimit(String limit) {
        if (limit == null || limit.isEmpty()) {
            return -1;
        }
        try {
            return Integer.parseInt(limit);
        } catch (NumberFormatException e) {
            throw DomainException.badRequest("invalid limit: " + limit);
        }
    }

    private <T> T read(String value, TypeReference<T> type) {
        try {
            return json.readValue(value, type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
