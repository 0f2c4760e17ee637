package dev.berth.volume.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.berth.events.DomainException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.util.Map;

/** Every failure leaves as Docker's error body {@code {"message": "..."}} with Docker's status code. */
public class DockerExceptionMappers {

    private static final Logger LOG = Logger.getLogger(DockerExceptionMappers.class);

    /** A refusal from an aggregate or from request validation. */
    @ServerExceptionMapper
    public Response domain(DomainException e) {
        return error(e.status(), e.getMessage());
    }

    /** A body that is not JSON, or whose JSON does not fit the request. */
    @ServerExceptionMapper
    public Response json(JsonProcessingException e) {
        return error(400, "invalid JSON: " + e.getOriginalMessage());
    }

    /** No such route: Docker answers {@code page not found}. */
    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return error(404, "page not found");
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        return error(e.getResponse().getStatus(), e.getMessage());
    }

    @ServerExceptionMapper
    public Response unexpected(Exception e) {
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof DomainException d) {
                return domain(d);
            }
        }
        LOG.error("request failed", e);
        return error(500, e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }

    public static Response error(int status, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(Map.of("message", message)).build();
    }
}
