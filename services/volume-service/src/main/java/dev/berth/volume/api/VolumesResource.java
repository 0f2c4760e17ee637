package dev.berth.volume.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.engineapi.Filters;
import dev.berth.engineapi.GoBool;
import dev.berth.engineapi.Tenants;
import dev.berth.events.DomainException;
import dev.berth.volume.domain.Volume;
import dev.berth.volume.persistence.VolumeService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
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

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The Docker Engine API's volume endpoints (unversioned: the gateway strips {@code /v1.xx}). */
@Path("/volumes")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.WILDCARD)
public class VolumesResource {

    /** Set on volumes created without a name; prune removes only these unless asked for {@code all}. */
    public static final String ANONYMOUS_LABEL = "com.docker.volume.anonymous";
    private static final Set<String> LIST_FILTERS = Set.of("name", "label", "driver", "dangling");
    private static final Set<String> PRUNE_FILTERS = Set.of("label", "label!", "all");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final VolumeService volumes;
    private final ObjectMapper json;

    public VolumesResource(VolumeService volumes, ObjectMapper json) {
        this.volumes = volumes;
        this.json = json;
    }

    /** The body of {@code POST /volumes/create}; unknown fields (ClusterVolumeSpec...) are ignored. */
    public record CreateRequest(@JsonProperty("Name") String name, @JsonProperty("Driver") String driver,
                                @JsonProperty("DriverOpts") Map<String, String> driverOpts,
                                @JsonProperty("Labels") Map<String, String> labels) {
    }

    @POST
    @Path("/create")
    public Uni<Response> create(@HeaderParam(Tenants.HEADER) String tenantHeader, String body) throws Exception {
        String tenant = Tenants.of(tenantHeader);
        CreateRequest req = body == null || body.isBlank() ? null : json.readValue(body, CreateRequest.class);
        if (req == null) {
            req = new CreateRequest(null, null, null, null);
        }
        String name = req.name();
        Map<String, String> labels = req.labels();
        if (name == null || name.isEmpty()) {
            byte[] random = new byte[32];
            RANDOM.nextBytes(random);
            name = HexFormat.of().formatHex(random);
            Map<String, String> withAnonymous = new LinkedHashMap<>(labels == null ? Map.of() : labels);
            withAnonymous.put(ANONYMOUS_LABEL, "");
            labels = withAnonymous;
        }
        return volumes.create(tenant, name, req.driver(), labels, req.driverOpts())
                .map(v -> Response.status(201).entity(VolumeJson.of(v)).build());
    }

    @GET
    public Uni<Map<String, Object>> list(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                         @QueryParam("filters") String rawFilters) {
        String tenant = Tenants.of(tenantHeader);
        Filters filters = Filters.parse(rawFilters, LIST_FILTERS);
        Boolean dangling = filters.bool("dangling");
        return volumes.list(tenant).map(all -> {
            List<VolumeJson> out = new ArrayList<>();
            for (Volume v : all) {
                // No container can use a volume yet, so every volume is dangling (not referenced by any container).
                boolean isDangling = true;
                if (filters.match("name", v.name()) && filters.exactMatch("driver", v.driver())
                        && filters.matchLabels("label", v.labels())
                        && (dangling == null || dangling == isDangling)) {
                    out.add(VolumeJson.of(v));
                }
            }
            Map<String, Object> response = new LinkedHashMap<>();
            response.put("Volumes", out);
            response.put("Warnings", null);
            return response;
        });
    }

    @GET
    @Path("/{name}")
    public Uni<VolumeJson> inspect(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("name") String name) {
        String tenant = Tenants.of(tenantHeader);
        return volumes.find(tenant, name).map(v -> {
            if (v == null) {
                throw DomainException.notFound("get " + name + ": no such volume");
            }
            return VolumeJson.of(v);
        });
    }

    @DELETE
    @Path("/{name}")
    public Uni<Response> remove(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("name") String name,
                                @QueryParam("force") String force) {
        String tenant = Tenants.of(tenantHeader);
        return volumes.remove(tenant, name, GoBool.parse("force", force, false))
                .map(removed -> Response.noContent().build());
    }

    @POST
    @Path("/prune")
    public Uni<Map<String, Object>> prune(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                          @HeaderParam("X-Berth-Api-Version") String apiVersion,
                                          @QueryParam("filters") String rawFilters) {
        String tenant = Tenants.of(tenantHeader);
        Filters filters = Filters.parse(rawFilters, PRUNE_FILTERS);
        Boolean all = filters.bool("all");
        // From API 1.42 on, prune removes only anonymous volumes unless the filters say all=true.
        boolean onlyAnonymous = all == null ? !olderThan142(apiVersion) : !all;
        return volumes.list(tenant).chain(candidates -> {
            List<Volume> victims = candidates.stream()
                    .filter(v -> !onlyAnonymous || v.labels().containsKey(ANONYMOUS_LABEL))
                    .filter(v -> filters.matchLabels("label", v.labels()))
                    .filter(v -> filters.matchNoLabel("label!", v.labels()))
                    .toList();
            // One at a time: each removal is its own command, and a volume removed meanwhile is simply skipped.
            return Multi.createFrom().iterable(victims)
                    .onItem().transformToUniAndConcatenate(v -> volumes.remove(tenant, v.name(), true)
                            .map(removed -> removed ? v.name() : null))
                    .select().where(java.util.Objects::nonNull)
                    .collect().asList();
        }).map(deleted -> {
            Map<String, Object> response = new LinkedHashMap<>();
            response.put("VolumesDeleted", deleted);
            // The bytes live on the nodes; the control plane does not know them.
            response.put("SpaceReclaimed", 0);
            return response;
        });
    }

    private static boolean olderThan142(String version) {
        if (version == null || version.isBlank()) {
            return false;
        }
        String[] parts = version.trim().split("\\.");
        try {
            int major = Integer.parseInt(parts[0]);
            int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
            return major < 1 || (major == 1 && minor < 42);
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
