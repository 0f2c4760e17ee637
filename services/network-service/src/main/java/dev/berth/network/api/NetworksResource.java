package dev.berth.network.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.engineapi.Filters;
import dev.berth.engineapi.Tenants;
import dev.berth.events.DomainException;
import dev.berth.network.domain.NetworkCommand.CreateNetwork;
import dev.berth.network.domain.NetworkCommand.RequestedIpam;
import dev.berth.network.domain.NetworkEvent.NetworkCreated;
import dev.berth.network.persistence.NetworkService;
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

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/** The Docker Engine API's network endpoints (unversioned: the gateway strips {@code /v1.xx}). */
@Path("/networks")
@Produces(MediaType.APPLICATION_JSON)
@Consumes(MediaType.WILDCARD)
public class NetworksResource {

    private static final Set<String> LIST_FILTERS = Set.of("id", "name", "label", "driver", "type", "scope",
            "dangling");
    private static final Set<String> PRUNE_FILTERS = Set.of("label", "label!", "until");

    private final NetworkService networks;
    private final ObjectMapper json;

    public NetworksResource(NetworkService networks, ObjectMapper json) {
        this.networks = networks;
        this.json = json;
    }

    /** One entry of {@code IPAM.Config}. */
    public record IpamConfigRequest(@JsonProperty("Subnet") String subnet, @JsonProperty("Gateway") String gateway,
                                    @JsonProperty("IPRange") String ipRange) {
    }

    /** {@code IPAM} of a create request. */
    public record IpamRequest(@JsonProperty("Driver") String driver, @JsonProperty("Options") Map<String, String> options,
                              @JsonProperty("Config") List<IpamConfigRequest> config) {
    }

    /** The body of {@code POST /networks/create}; unknown fields (CheckDuplicate, Scope...) are ignored. */
    public record CreateRequest(@JsonProperty("Name") String name, @JsonProperty("Driver") String driver,
                                @JsonProperty("Internal") Boolean internal,
                                @JsonProperty("Attachable") Boolean attachable,
                                @JsonProperty("Ingress") Boolean ingress,
                                @JsonProperty("ConfigOnly") Boolean configOnly,
                                @JsonProperty("ConfigFrom") Map<String, String> configFrom,
                                @JsonProperty("EnableIPv6") Boolean enableIPv6,
                                @JsonProperty("IPAM") IpamRequest ipam,
                                @JsonProperty("Options") Map<String, String> options,
                                @JsonProperty("Labels") Map<String, String> labels) {
    }

    @POST
    @Path("/create")
    public Uni<Response> create(@HeaderParam(Tenants.HEADER) String tenantHeader, String body) throws Exception {
        String tenant = Tenants.of(tenantHeader);
        CreateRequest req = body == null || body.isBlank() ? null : json.readValue(body, CreateRequest.class);
        if (req == null) {
            throw DomainException.badRequest("network name must not be empty");
        }
        if (Boolean.TRUE.equals(req.configOnly()) || req.configFrom() != null
                && req.configFrom().get("Network") != null && !req.configFrom().get("Network").isEmpty()) {
            throw DomainException.badRequest("config-only networks are not supported");
        }
        if (Boolean.TRUE.equals(req.ingress())) {
            throw new DomainException(403, "ingress networks need a swarm, which Berth does not run");
        }
        List<RequestedIpam> ipam = req.ipam() == null || req.ipam().config() == null ? List.of()
                : req.ipam().config().stream().filter(Objects::nonNull)
                .map(c -> new RequestedIpam(c.subnet(), c.gateway(), c.ipRange())).toList();
        CreateNetwork template = new CreateNetwork(null, req.name(), req.driver(), Boolean.TRUE.equals(req.internal()),
                Boolean.TRUE.equals(req.attachable()), false, Boolean.TRUE.equals(req.enableIPv6()),
                req.ipam() == null ? null : req.ipam().driver(), req.ipam() == null ? null : req.ipam().options(),
                ipam, req.options(), req.labels(), null, Set.of(), List.of());
        return networks.create(tenant, template).map(created -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("Id", created.id());
            out.put("Warning", "");
            return Response.status(201).entity(out).build();
        });
    }

    @GET
    public Uni<List<Map<String, Object>>> list(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                               @QueryParam("filters") String rawFilters) {
        String tenant = Tenants.of(tenantHeader);
        Filters filters = Filters.parse(rawFilters, LIST_FILTERS);
        for (String type : filters.get("type")) {
            if (!type.equals("custom") && !type.equals("builtin")) {
                throw DomainException.badRequest("invalid filter: 'type'='" + type + "'");
            }
        }
        Boolean dangling = filters.bool("dangling");
        return networks.list(tenant).map(all -> all.stream()
                .filter(n -> filters.match("name", n.name()))
                .filter(n -> filters.match("id", n.id()))
                .filter(n -> filters.exactMatch("driver", n.driver()))
                .filter(n -> filters.exactMatch("scope", "local"))
                .filter(n -> filters.matchLabels("label", n.labels()))
                .filter(n -> !filters.contains("type") || filters.get("type").contains(n.predefined() ? "builtin" : "custom"))
                // No container is connected to any network yet: every user network is dangling, predefined ones never.
                .filter(n -> dangling == null || dangling == !n.predefined())
                .map(NetworkJson::of).toList());
    }

    @GET
    @Path("/{id}")
    public Uni<Map<String, Object>> inspect(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                            @PathParam("id") String id) {
        return networks.find(Tenants.of(tenantHeader), id).map(NetworkJson::of);
    }

    @DELETE
    @Path("/{id}")
    public Uni<Response> remove(@HeaderParam(Tenants.HEADER) String tenantHeader, @PathParam("id") String id) {
        return networks.remove(Tenants.of(tenantHeader), id).map(n -> Response.noContent().build());
    }

    @POST
    @Path("/prune")
    public Uni<Map<String, Object>> prune(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                          @QueryParam("filters") String rawFilters) {
        String tenant = Tenants.of(tenantHeader);
        Filters filters = Filters.parse(rawFilters, PRUNE_FILTERS);
        Instant until = filters.until();
        return networks.list(tenant).chain(all -> {
            List<NetworkCreated> victims = all.stream()
                    .filter(n -> !n.predefined())
                    .filter(n -> filters.matchLabels("label", n.labels()))
                    .filter(n -> filters.matchNoLabel("label!", n.labels()))
                    .filter(n -> until == null || n.created().isBefore(until))
                    .toList();
            return Multi.createFrom().iterable(victims)
                    .onItem().transformToUniAndConcatenate(n -> networks.remove(tenant, n.id())
                            .map(NetworkCreated::name)
                            // removed meanwhile by someone else: not ours to report
                            .onFailure(DomainException.class).recoverWithNull())
                    .select().where(Objects::nonNull)
                    .collect().asList();
        }).map(deleted -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("NetworksDeleted", deleted.isEmpty() ? null : deleted);
            return out;
        });
    }

}
