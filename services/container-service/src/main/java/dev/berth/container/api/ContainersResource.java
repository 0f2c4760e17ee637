package dev.berth.container.api;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.container.domain.ContainerEvent.Network;
import dev.berth.container.domain.ContainerSpec;
import dev.berth.container.domain.Status;
import dev.berth.container.persistence.ContainerRepository;
import dev.berth.container.persistence.ContainerService;
import dev.berth.container.projection.ContainerProjection;
import dev.berth.container.projection.FreshImages;
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
    private static final TypeReference<Network> NETWORK = new TypeReference<>() {
    };

    private static final Set<String> PRUNE_FILTERS = Set.of("label", "label!", "until");

    private final ContainerRepository containers;
    private final ContainerService service;
    private final FreshImages freshImages;
    private final ObjectMapper json;
    private final Execs execs;

    public ContainersResource(ContainerRepository containers, ContainerService service,
                              ObjectMapper json, Execs execs, FreshImages freshImages) {
        this.execs = execs;
        this.freshImages = freshImages;
        this.containers = containers;
        this.service = service;
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
        return freshImages.resolve(tenant, image)
                .chain(found -> service.create(tenant, requested,
                        CreateRequest.spec(request, found.id(), found.config()), found.layers()))
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

    @POST
    @Path("/{ref}/start")
    @Consumes(MediaType.WILDCARD)
    public Uni<Response> start(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("ref") String ref,
                               @QueryParam("detachKeys") String detachKeys) {
        return service.start(Tenants.of(tenantHeader), ref).map(ContainersResource::noContentOrNotModified);
    }

    @POST
    @Path("/{ref}/stop")
    @Consumes(MediaType.WILDCARD)
    public Uni<Response> stop(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("ref") String ref,
                              @QueryParam("t") String t, @QueryParam("signal") String signal) {
        return service.stop(Tenants.of(tenantHeader), ref, seconds(t), signal)
                .map(ContainersResource::noContentOrNotModified);
    }

    @POST
    @Path("/{ref}/kill")
    @Consumes(MediaType.WILDCARD)
    public Uni<Response> kill(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("ref") String ref,
                              @QueryParam("signal") String signal) {
        return service.kill(Tenants.of(tenantHeader), ref, signal == null || signal.isEmpty() ? null : signal)
                .map(ignored -> Response.noContent().build());
    }

    @POST
    @Path("/{ref}/restart")
    @Consumes(MediaType.WILDCARD)
    public Uni<Response> restart(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("ref") String ref,
                                 @QueryParam("t") String t, @QueryParam("signal") String signal) {
        return service.restart(Tenants.of(tenantHeader), ref, seconds(t), signal)
                .map(ignored -> Response.noContent().build());
    }

    @POST
    @Path("/{ref}/pause")
    @Consumes(MediaType.WILDCARD)
    public Uni<Response> pause(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("ref") String ref) {
        return service.pause(Tenants.of(tenantHeader), ref).map(ignored -> Response.noContent().build());
    }

    @POST
    @Path("/{ref}/unpause")
    @Consumes(MediaType.WILDCARD)
    public Uni<Response> unpause(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("ref") String ref) {
        return service.unpause(Tenants.of(tenantHeader), ref).map(ignored -> Response.noContent().build());
    }

    /** Exec create: forwarded to the node, recorded for the gateway's exec routing ({@link Execs}). */
    @POST
    @Path("/{ref}/exec")
    @Consumes(MediaType.WILDCARD)
    public Uni<Response> exec(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("ref") String ref,
                              byte[] body) {
        String tenant = Tenants.of(tenantHeader);
        return found(tenant, ref).chain(view -> execs.create(tenant, view, body));
    }

    private static Response noContentOrNotModified(boolean changed) {
        return changed ? Response.noContent().build() : Response.notModified().build();
    }

    /** Docker's {@code t}: whole seconds, -1 waits for ever; absent means the container's own timeout. */
    private static Integer seconds(String t) {
        if (t == null || t.isEmpty()) {
            return null;
        }
        try {
            return Integer.parseInt(t);
        } catch (NumberFormatException e) {
            throw DomainException.badRequest("invalid value for t: strconv.Atoi: parsing \"" + t
                    + "\": invalid syntax");
        }
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
            List<String> deleted = new java.util.concurrent.CopyOnWriteArrayList<>();
            Uni<Void> chain = Uni.createFrom().voidItem();
            for (String id : doomed) {
                chain = chain.chain(() -> service.remove(tenant, id, false)
                        .invoke(() -> deleted.add(id))
                        // a container that started (409) or went (404) meanwhile is not reported as pruned
                        .onFailure(DomainException.class).recoverWithNull().replaceWithVoid());
            }
            return chain.map(ignored -> {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("ContainersDeleted", deleted.isEmpty() ? null : List.copyOf(deleted));
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
        // Docker counts a paused or restarting container as running
        state.put("Running", active(row));
        state.put("Paused", "paused".equals(row.state));
        state.put("Restarting", "restarting".equals(row.state));
        state.put("OOMKilled", row.oomKilled);
        state.put("Dead", "dead".equals(row.state));
        state.put("Pid", row.pid);
        state.put("ExitCode", row.exitCode);
        state.put("Error", row.error);
        state.put("StartedAt", row.startedAt);
        state.put("FinishedAt", row.finishedAt);
        c.put("State", state);
        c.put("Image", row.imageId);
        c.put("ResolvConfPath", "");
        c.put("HostnamePath", "");
        c.put("HostsPath", "");
        c.put("LogPath", "");
        c.put("Name", "/" + row.name);
        c.put("RestartCount", row.restartCount);
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
        Network net = active(row) ? network(row) : null;
        Map<String, Object> networks = new LinkedHashMap<>();
        String network = ContainerProjection.networkName(spec.host().networkMode());
        if (!network.isEmpty()) {
            networks.put(network, endpoint(net));
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("Bridge", "");
        settings.put("SandboxID", "");
        settings.put("HairpinMode", false);
        settings.put("LinkLocalIPv6Address", "");
        settings.put("LinkLocalIPv6PrefixLen", 0);
        settings.put("Ports", inspectPorts(spec, net, active(row)));
        settings.put("SandboxKey", "");
        settings.put("SecondaryIPAddresses", null);
        settings.put("SecondaryIPv6Addresses", null);
        settings.put("EndpointID", "");
        settings.put("Gateway", net == null ? "" : net.gateway());
        settings.put("GlobalIPv6Address", "");
        settings.put("GlobalIPv6PrefixLen", 0);
        settings.put("IPAddress", net == null ? "" : net.ipAddress());
        settings.put("IPPrefixLen", net == null ? 0 : net.prefixLength());
        settings.put("IPv6Gateway", "");
        settings.put("MacAddress", net == null ? "" : net.macAddress());
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
            java.time.Instant now = java.time.Instant.now();
            List<Map<String, Object>> out = new ArrayList<>();
            for (ContainerView row : rows) {
                Map<String, String> labels = read(row.labelsJson, STRING_MAP);
                if (!everything && !active(row)
                        || !filters.exactMatch("status", row.state)
                        || filters.contains("exited") && (!"exited".equals(row.state)
                        || !filters.get("exited").contains(Integer.toString(row.exitCode)))
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
                c.put("Status", Status.of(row.state, row.exitCode, row.startedAt, row.finishedAt, now));
                Map<String, Object> summary = read(row.summaryJson, OBJECT_MAP);
                Network net = active(row) ? network(row) : null;
                if (net != null) {
                    summary.put("Ports", listPorts(read(row.specJson, SPEC), net));
                    String networkName = ContainerProjection.networkName(read(row.specJson, SPEC).host().networkMode());
                    if (!networkName.isEmpty()) {
                        summary.put("NetworkSettings", Map.of("Networks", Map.of(networkName, endpoint(net))));
                    }
                }
                c.putAll(summary);
                out.add(c);
                if (max > 0 && out.size() == max) {
                    break;
                }
            }
            return out;
        });
    }

    private static boolean active(ContainerView row) {
        return "running".equals(row.state) || "paused".equals(row.state) || "restarting".equals(row.state);
    }

    private Network network(ContainerView row) {
        return row.networkJson == null ? null : read(row.networkJson, NETWORK);
    }

    /** An endpoint in Docker's EndpointSettings shape, with the address of the running container if any. */
    private static Map<String, Object> endpoint(Network net) {
        Map<String, Object> e = ContainerProjection.endpoint();
        if (net != null) {
            e.put("Gateway", net.gateway());
            e.put("IPAddress", net.ipAddress());
            e.put("IPPrefixLen", net.prefixLength());
            e.put("MacAddress", net.macAddress());
        }
        return e;
    }

    /** Inspect's {@code NetworkSettings.Ports}: every exposed port, bound ones with their host side, while it runs. */
    private static Map<String, Object> inspectPorts(ContainerSpec spec, Network net, boolean running) {
        Map<String, Object> ports = new java.util.TreeMap<>();
        if (!running) {
            return ports;
        }
        for (String port : spec.exposedPorts()) {
            ports.put(port, null);
        }
        if (net != null) {
            for (dev.berth.container.domain.ContainerEvent.Port p : net.ports()) {
                String key = p.containerPort() + "/" + p.protocol();
                @SuppressWarnings("unchecked")
                List<Map<String, String>> list = ports.get(key) instanceof List<?> l
                        ? (List<Map<String, String>>) l : new ArrayList<>();
                Map<String, String> binding = new LinkedHashMap<>();
                binding.put("HostIp", p.hostIp() == null || p.hostIp().isEmpty() ? "0.0.0.0" : p.hostIp());
                binding.put("HostPort", Integer.toString(p.hostPort()));
                list.add(binding);
                ports.put(key, list);
            }
        }
        return ports;
    }

    /** The list's {@code Ports} of a running container: published ones with IP and PublicPort, the rest without. */
    private static List<Map<String, Object>> listPorts(ContainerSpec spec, Network net) {
        List<Map<String, Object>> out = new ArrayList<>();
        Set<String> published = new java.util.HashSet<>();
        for (dev.berth.container.domain.ContainerEvent.Port p : net.ports()) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("IP", p.hostIp() == null || p.hostIp().isEmpty() ? "0.0.0.0" : p.hostIp());
            entry.put("PrivatePort", p.containerPort());
            entry.put("PublicPort", p.hostPort());
            entry.put("Type", p.protocol());
            out.add(entry);
            published.add(p.containerPort() + "/" + p.protocol());
        }
        for (String port : spec.exposedPorts()) {
            if (!published.contains(port)) {
                String[] parts = port.split("/", 2);
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("PrivatePort", Integer.parseInt(parts[0]));
                entry.put("Type", parts.length > 1 ? parts[1] : "tcp");
                out.add(entry);
            }
        }
        return out;
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
