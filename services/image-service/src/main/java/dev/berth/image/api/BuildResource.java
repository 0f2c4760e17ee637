package dev.berth.image.api;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.engineapi.GoBool;
import dev.berth.engineapi.Tenants;
import dev.berth.events.DomainException;
import dev.berth.image.build.BuildContext;
import dev.berth.image.build.BuildException;
import dev.berth.image.build.BuildPlan;
import dev.berth.image.build.Builder;
import dev.berth.image.build.DockerfileParser;
import dev.berth.image.domain.Reference;
import io.smallrye.common.annotation.Blocking;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.StreamingOutput;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /build}, the legacy builder protocol the docker CLI (without BuildKit) and docker-py use: the body is
 * the context tar, the answer a stream of Docker's JSON messages ({@code stream}, {@code aux}, {@code errorDetail}),
 * one per chunk, each ending in {@code \r\n}. Errors found before the stream starts (bad parameters, a context that
 * is not a tar, a missing Dockerfile, a Dockerfile syntax error) are HTTP errors; later ones are in the stream.
 */
@Path("/build")
public class BuildResource {

    private static final Logger LOG = Logger.getLogger(BuildResource.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Builder builder;

    public BuildResource(Builder builder) {
        this.builder = builder;
    }

    @POST
    @Blocking
    public Response build(@HeaderParam(Tenants.HEADER) String tenantHeader,
                          @QueryParam("t") List<String> tags,
                          @QueryParam("dockerfile") String dockerfile,
                          @QueryParam("buildargs") String buildArgs,
                          @QueryParam("labels") String labels,
                          @QueryParam("target") String target,
                          @QueryParam("nocache") String noCache,
                          @QueryParam("q") String quiet,
                          @QueryParam("rm") String remove,
                          @QueryParam("forcerm") String forceRemove,
                          @QueryParam("pull") String pull,
                          @QueryParam("remote") String remote,
                          InputStream body) {
        String tenant = Tenants.of(tenantHeader);
        boolean q = GoBool.parse("q", quiet, false);
        boolean nocache = GoBool.parse("nocache", noCache, false);
        // the CLI no longer sends rm; Docker's default is true
        boolean rm = GoBool.parse("rm", remove, true) || GoBool.parse("forcerm", forceRemove, false);
        GoBool.parse("pull", pull, false);
        if (remote != null && !remote.isEmpty()) {
            throw DomainException.badRequest("remote build contexts are not supported: send the context as a tar");
        }
        List<Reference> references = new ArrayList<>();
        for (String t : tags == null ? List.<String>of() : tags) {
            if (!t.isEmpty()) {
                references.add(Reference.parse(t));
            }
        }
        Map<String, String> args = stringMap("buildargs", buildArgs);
        Map<String, String> labelMap = stringMap("labels", labels);
        String dockerfileName = dockerfile == null || dockerfile.isEmpty() ? "Dockerfile" : dockerfile;

        BuildContext context = BuildContext.unpack(body, builder.workDir(), dockerfileName);
        BuildPlan plan;
        try {
            plan = BuildPlan.of(DockerfileParser.parse(context.dockerfile(dockerfileName)), target);
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
        Builder.Request request = new Builder.Request(tenant, references, args, labelMap, nocache, rm);
        StreamingOutput stream = out -> {
            Messages messages = new Messages(out, q);
            try {
                String id = builder.build(request, plan, context, messages);
                if (q) {
                    messages.write(Map.of("stream", id + "\n"));
                }
            } catch (BuildException e) {
                messages.error(e.getMessage(), e.code());
            } catch (DomainException e) {
                messages.error(e.getMessage(), null);
            } catch (RuntimeException e) {
                LOG.errorf(e, "build failed");
                messages.error(e.getMessage() == null ? e.toString() : e.getMessage(), null);
            } finally {
                context.close();
            }
        };
        return Response.ok(stream, MediaType.APPLICATION_JSON).build();
    }

    private static Map<String, String> stringMap(String name, String json) {
        if (json == null || json.isEmpty()) {
            return Map.of();
        }
        try {
            Map<String, String> parsed = JSON.readValue(json, new TypeReference<LinkedHashMap<String, String>>() {
            });
            return parsed == null ? Map.of() : parsed;
        } catch (IOException e) {
            throw DomainException.badRequest("invalid " + name + ": " + json);
        }
    }

    /** Writes JSON messages as Docker does: one per flush, {@code \r\n} after each, Go's HTML escaping. */
    private static final class Messages implements Builder.Output {
        private final OutputStream out;
        private final boolean quiet;

        Messages(OutputStream out, boolean quiet) {
            this.out = out;
            this.quiet = quiet;
        }

        @Override
        public void stream(String text) {
            if (!quiet) {
                write(Map.of("stream", text));
            }
        }

        @Override
        public void aux(String imageId) {
            if (!quiet) {
                write(Map.of("aux", Map.of("ID", imageId)));
            }
        }

        void error(String message, Integer code) {
            ObjectNode m = JSON.createObjectNode();
            ObjectNode detail = m.putObject("errorDetail");
            if (code != null) {
                detail.put("code", code);
            }
            detail.put("message", message);
            m.put("error", message);
            write(m);
        }

        void write(Object message) {
            try {
                String line = JSON.writeValueAsString(message).replace("<", "\\u003c").replace(">", "\\u003e")
                        .replace("&", "\\u0026");
                out.write((line + "\r\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("the client went away", e);
            }
        }
    }
}
