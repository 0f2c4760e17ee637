package dev.berth.image.registry;

import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

import java.util.List;
import java.util.Map;

/** Turns a {@link RegistryException} into the distribution spec's error body. */
public class RegistryErrors {

    public static final String API_VERSION = "Docker-Distribution-Api-Version";

    @ServerExceptionMapper
    public Response map(RegistryException e) {
        return response(e);
    }

    /** The error response: status, spec body, the API version header and any headers the error carries. */
    public static Response response(RegistryException e) {
        Map<String, Object> error = new java.util.LinkedHashMap<>();
        error.put("code", e.code());
        error.put("message", e.getMessage());
        error.put("detail", e.detail() == null ? Map.of() : e.detail());
        Response.ResponseBuilder r = Response.status(e.status()).type(MediaType.APPLICATION_JSON)
                .header(API_VERSION, "registry/2.0").entity(Map.of("errors", List.of(error)));
        e.headers().forEach(r::header);
        return r.build();
    }
}
