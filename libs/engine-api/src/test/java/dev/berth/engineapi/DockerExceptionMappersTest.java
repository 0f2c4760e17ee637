package dev.berth.engineapi;

import com.fasterxml.jackson.core.JsonParseException;
import dev.berth.events.DomainException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.Response;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;

class DockerExceptionMappersTest {

    private final DockerExceptionMappers mappers = new DockerExceptionMappers();

    @Test
    void aDomainRefusalKeepsItsStatusAndMessage() {
        Response r = mappers.domain(DomainException.badRequest("invalid filter 'x'"));

        assertDockerError(r, 400, "invalid filter 'x'");
    }

    @Test
    void aDomainRefusalWrappedByAnotherLayerStillKeepsItsStatus() {
        Response r = mappers.unexpected(new CompletionException(
                new IllegalStateException("wrapper", DomainException.badRequest("invalid tenant \"..\""))));

        assertDockerError(r, 400, "invalid tenant \"..\"");
    }

    @Test
    void malformedJsonIsA400() {
        Response r = mappers.json(new JsonParseException(null, "Unexpected character ('}')"));

        assertDockerError(r, 400, "invalid JSON: Unexpected character ('}')");
    }

    @Test
    void anUnknownRouteIsDockersPageNotFound() {
        assertDockerError(mappers.notFound(new NotFoundException()), 404, "page not found");
    }

    @Test
    void anotherJaxRsRefusalKeepsItsStatus() {
        Response r = mappers.web(new WebApplicationException("method not allowed", 405));

        assertDockerError(r, 405, "method not allowed");
    }

    @Test
    void anythingElseIsA500WithAMessageEvenWithoutOne() {
        assertDockerError(mappers.unexpected(new IllegalStateException("pool closed")), 500, "pool closed");
        assertDockerError(mappers.unexpected(new NullPointerException()), 500, "NullPointerException");
    }

    private static void assertDockerError(Response r, int status, String message) {
        assertThat(r.getStatus()).isEqualTo(status);
        assertThat(r.getMediaType().toString()).isEqualTo("application/json");
        assertThat(r.getEntity()).isEqualTo(Map.of("message", message));
    }
}
