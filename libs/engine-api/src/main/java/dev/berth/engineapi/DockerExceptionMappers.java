package dev.berth.engineapi;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.berth.events.DomainException;
import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.util.Map;

/**
 * Every failure of a request leaves as Docker's error body {@code {"message": "..."}} with Docker's status code, since
 * Docker's clients show that message to the user and decide by the status (404 means "no such", 409 "conflict").
 * Quarkus REST finds these mappers through this library's bean index; a service must not declare its own mappers for
 * the same exception types.
 */
public class DockerExceptionMappers {

    private static final Logger LOG = Logger.getLogger(DockerExceptionMappers.class);

    /** A refusal from an aggregate or from request validation: its own status and message. */
    @ServerExceptionMapper
    public Response domain(DomainException e) {
        return error(e.status(), e.getMessage());
    }

    /** A body that is not JSON, or whose JSON does not fit the request: 400 {@code invalid JSON: ...}. */
    @ServerExceptionMapper
    public Response json(JsonProcessingException e) {
        return error(400, "invalid JSON: " + e.getOriginalMessage());
    }

    /** No such route: Docker answers 404 {@code page not found}. */
    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return error(404, "page not found");
    }

    /** A known path with another method: Docker's router answers 404 {@code page not found} for that too. */
    @ServerExceptionMapper
    public Response notAllowed(NotAllowedException e) {
        return error(404, "page not found");
    }

    /** Any other JAX-RS refusal (405, 415...): its status, its message in Docker's body. */
    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        return error(e.getResponse().getStatus(), e.getMessage());
    }

    /**
     * Anything else: a {@link DomainException} wrapped by a reactive or persistence layer keeps its own status; the
     * rest is a 500 with the exception's message, and is logged, since it is a bug or an outage.
     */
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

    /** Docker's error response: {@code status} with the JSON body {@code {"message": message}}. */
    public static Response error(int status, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(Map.of("message", message)).build();
    }
}
