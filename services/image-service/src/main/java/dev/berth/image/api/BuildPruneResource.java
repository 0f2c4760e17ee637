package dev.berth.image.api;

import dev.berth.engineapi.Filters;
import dev.berth.engineapi.GoBool;
import dev.berth.engineapi.Tenants;
import dev.berth.events.DomainException;
import dev.berth.image.build.BuildCache;
import dev.berth.image.persistence.ImageService;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * {@code POST /build/prune} ({@code docker builder prune}): removes build cache entries of the tenant, then the layer
 * blobs nothing else holds. Answers Docker's {@code {"CachesDeleted":[ids],"SpaceReclaimed":n}}, the ids being the
 * step image ids a build prints; {@code CachesDeleted} is null when nothing went, as in Docker.
 */
@Path("/build/prune")
public class BuildPruneResource {

    // BuildKit's cache filters; only until/unused-for and id select anything here, the others describe BuildKit
    // records the legacy builder's cache does not have, and a client sending them is refused rather than misled
    private static final Set<String> FILTERS = Set.of("until", "unused-for", "id");

    private final BuildCache cache;
    private final ImageService images;

    public BuildPruneResource(BuildCache cache, ImageService images) {
        this.cache = cache;
        this.images = images;
    }

    @POST
    public Uni<Map<String, Object>> prune(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                          @QueryParam("all") String all,
                                          @QueryParam("keep-storage") String keepStorage,
                                          @QueryParam("filters") String rawFilters) {
        String tenant = Tenants.of(tenantHeader);
        boolean everything = GoBool.parse("all", all, false);
        long keep = 0;
        if (keepStorage != null && !keepStorage.isEmpty()) {
            try {
                keep = Long.parseLong(keepStorage);
            } catch (NumberFormatException e) {
                throw DomainException.badRequest("keep-storage is in bytes and expects an integer, got "
                        + keepStorage);
            }
        }
        Filters filters = Filters.parse(rawFilters, FILTERS);
        Instant until = until(filters);
        Set<String> ids = filters.get("id");
        Predicate<String> id = ids.isEmpty() ? x -> true : x -> ids.stream().anyMatch(x::startsWith);
        BuildCache.PruneRequest request = new BuildCache.PruneRequest(everything, keep, until, id);
        return cache.prune(tenant, request).chain(pruned -> images.reclaim(pruned.digests())
                .emitOn(Infrastructure.getDefaultWorkerPool()).map(freed -> {
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("CachesDeleted", pruned.ids().isEmpty() ? null : pruned.ids());
                    out.put("SpaceReclaimed", freed);
                    return out;
                }));
    }

    /** {@code until}, or its older name {@code unused-for}: a duration (or a time) before which entries go. */
    private static Instant until(Filters filters) {
        Set<String> old = filters.get("unused-for");
        if (old.isEmpty()) {
            return filters.until();
        }
        if (filters.contains("until")) {
            throw DomainException.badRequest("conflicting filters: \"until\" and \"unused-for\"");
        }
        StringBuilder json = new StringBuilder("{\"until\":[");
        old.forEach(v -> json.append(json.charAt(json.length() - 1) == '[' ? "" : ",")
                .append(com.fasterxml.jackson.databind.node.TextNode.valueOf(v)));
        return Filters.parse(json.append("]}").toString(), Set.of("until")).until();
    }
}
