package dev.berth.image.api;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.image.persistence.ImageRepository;
import dev.berth.image.projection.ImageView;
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

/** {@code GET /images/json}, from the image read model. */
@Path("/images")
@Produces(MediaType.APPLICATION_JSON)
public class ImagesResource {

    private static final Set<String> LIST_FILTERS = Set.of("before", "dangling", "label", "reference", "since",
            "until");
    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() {
    };
    private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {
    };

    private final ImageRepository images;
    private final ObjectMapper json;

    public ImagesResource(ImageRepository images, ObjectMapper json) {
        this.images = images;
        this.json = json;
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
            List<Map<String, Object>> out = new ArrayList<>();
            for (ImageView row : rows) {
                List<String> tags = read(row.repoTags, STRINGS);
                Map<String, String> labels = read(row.labelsJson, STRING_MAP);
                if (!filters.matchLabels("label", labels) || dangling != null && dangling != tags.isEmpty()) {
                    continue;
                }
                Map<String, Object> image = new LinkedHashMap<>();
                image.put("Containers", -1);
                image.put("Created", row.createdAt.getEpochSecond());
                image.put("Id", row.id);
                image.put("Labels", labels);
                image.put("ParentId", row.parentId);
                image.put("RepoDigests", read(row.repoDigests, STRINGS));
                image.put("RepoTags", tags);
                image.put("SharedSize", -1);
                image.put("Size", row.size);
                out.add(image);
            }
            return out;
        });
    }

    private <T> T read(String value, TypeReference<T> type) {
        try {
            return json.readValue(value, type);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
