package dev.berth.engineapi;

import dev.berth.eventstore.Replayer;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.util.Map;

/**
 * Operations endpoint {@code POST /_berth/replay}, not part of the Docker API (the gateway does not route it):
 * rebuilds every read model of the service from its own event log, atomically. Readers keep seeing the old read
 * model until the rebuild commits; a failed rebuild rolls back and leaves the live read model as it was, and the
 * request fails with 500 and Docker's error body.
 * <p>
 * Every service that depends on this library gets the endpoint; it needs the event store's {@link Replayer} bean.
 */
@Path("/_berth/replay")
public class ReplayResource {

    private final Replayer replayer;

    public ReplayResource(Replayer replayer) {
        this.replayer = replayer;
    }

    /** Answers {@code {"events": n}}, the number of events re-applied. */
    @POST
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<Map<String, Long>> replay() {
        return replayer.rebuild().map(n -> Map.of("events", n));
    }
}
