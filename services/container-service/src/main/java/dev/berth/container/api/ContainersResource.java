package dev.berth.container.api;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.container.persistence.ContainerRepository;
import dev.berth.container.projection.ContainerView;
import dev.berth.engineapi.Filters;
import dev.berth.engineapi.GoBool;
import dev.berth.engineapi.Tenants;
import dev.berth.events.DomainException;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
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

/** {@code GET /containers/json}, from the container read model. */
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

    private final ContainerRepository containers;
    private final ObjectMapper json;

    public ContainersResource(ContainerRepository containers, ObjectMapper json) {
        this.containers = containers;
        this.json = json;
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
                        || !filters.matchLabels("label", labels)) {
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
