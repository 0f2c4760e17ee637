package dev.berth.image.api;

import dev.berth.engineapi.Tenants;
import dev.berth.image.history.TagHistory;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

/**
 * Berth's own image API beside Docker's: the history of a tag and rollback. Errors are Docker's {@code {"message"}}
 * with its status codes (400 bad reference, 404 unknown tag or target, 409 target deleted since).
 */
@Path("/_berth/tags")
@Produces(MediaType.APPLICATION_JSON)
public class TagHistoryResource {

    private final TagHistory history;

    public TagHistoryResource(TagHistory history) {
        this.history = history;
    }

    @GET
    @Path("/{ref: .+}/history")
    public Uni<TagHistory.Listing> history(@HeaderParam(Tenants.HEADER) String tenant, @PathParam("ref") String ref) {
        return history.list(Tenants.of(tenant), ref);
    }

    @POST
    @Path("/{ref: .+}/rollback")
    public Uni<TagHistory.Rollback> rollback(@HeaderParam(Tenants.HEADER) String tenant, @PathParam("ref") String ref,
                                             @QueryParam("to") String to) {
        return history.rollback(Tenants.of(tenant), ref, to);
    }
}
