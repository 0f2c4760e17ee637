package dev.berth.container.api;

import dev.berth.container.persistence.ContainerRepository;
import dev.berth.container.persistence.Waits;
import dev.berth.engineapi.Tenants;
import dev.berth.events.DomainException;
import dev.berth.events.Json;
import io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle;
import io.smallrye.common.vertx.VertxContext;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.util.Map;

/**
 * {@code POST /containers/{ref}/wait?condition=not-running|next-exit|removed}, on the Vert.x router rather than as a
 * REST resource because its status line and headers must go out at once, long before the body: {@code docker run}
 * sends wait before start and blocks on those headers. The body is Docker's {@code {"Error":null,"StatusCode":n}}
 * once the condition holds; a client that goes away just drops its wait.
 */
@ApplicationScoped
public class WaitRoute {

    private static final Logger LOG = Logger.getLogger(WaitRoute.class);

    private final ContainerRepository containers;
    private final Waits waits;
    private final Vertx vertx;

    public WaitRoute(ContainerRepository containers, Waits waits, Vertx vertx) {
        this.containers = containers;
        this.waits = waits;
        this.vertx = vertx;
    }

    void register(@Observes Router router) {
        router.postWithRegex("/containers/(?<ref>[^/]+)/wait").order(-10).handler(this::handle);
    }

    private void handle(RoutingContext rc) {
        HttpServerResponse response = rc.response();
        String tenant;
        Waits.Condition condition;
        try {
            tenant = Tenants.of(rc.request().getHeader(Tenants.HEADER));
            condition = Waits.Condition.parse(rc.request().getParam("condition"));
        } catch (DomainException e) {
            error(response, e.status(), e.getMessage());
            return;
        }
        String ref = rc.pathParam("ref");
        // Hibernate Reactive needs a safe duplicated context of its own
        Context context = VertxContext.createNewDuplicatedContext(vertx.getOrCreateContext());
        VertxContextSafetyToggle.setContextSafe(context, true);
        // the container is looked up first (404 before any header), then the headers go out at once
        context.runOnContext(ignored -> containers.find(tenant, ref)
                .chain(view -> {
                    if (view == null) {
                        throw DomainException.notFound("No such container: " + ref);
                    }
                    startBody(response);
                    Waits.Waiter waiter = waits.register(view.id, condition, view.exitCode);
                    response.closeHandler(closed -> waiter.drop());
                    // read again now that the wait is registered: what happened in between is not missed
                    return containers.byId(view.id).chain(now -> {
                        if (now == null) {
                            waiter.completeWithLast();
                        } else if (condition == Waits.Condition.NOT_RUNNING && !active(now)) {
                            waiter.complete(now.exitCode);
                        }
                        return waiter.result();
                    });
                })
                .subscribe().with(code -> done(response, code), failure -> failed(response, failure)));
    }

    private static void done(HttpServerResponse response, int code) {
        if (response.closed() || response.ended()) {
            return;
        }
        if (!response.headWritten()) {
            startBody(response);
        }
        response.end("{\"Error\":null,\"StatusCode\":" + code + "}\n");
    }

    private static void failed(HttpServerResponse response, Throwable failure) {
        if (response.closed() || response.ended()) {
            return;
        }
        DomainException d = unwrap(failure);
        if (!response.headWritten()) {
            error(response, d == null ? 500 : d.status(), d == null ? String.valueOf(failure.getMessage()) : d.getMessage());
            return;
        }
        LOG.warnf("wait failed after its headers: %s", failure.toString());
        response.end("{\"Error\":{\"Message\":" + quote(failure.getMessage()) + "},\"StatusCode\":-1}\n");
    }

    private static boolean active(dev.berth.container.projection.ContainerView view) {
        return "running".equals(view.state) || "paused".equals(view.state) || "restarting".equals(view.state);
    }

    static void startBody(HttpServerResponse response) {
        response.setStatusCode(200).setChunked(true).putHeader("Content-Type", "application/json");
        response.write(io.vertx.core.buffer.Buffer.buffer());
    }

    private static DomainException unwrap(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof DomainException d) {
                return d;
            }
        }
        return null;
    }

    private static void error(HttpServerResponse response, int status, String message) {
        response.setStatusCode(status).putHeader("Content-Type", "application/json")
                .end(write(Map.of("message", message)));
    }

    private static String quote(String s) {
        return write(s == null ? "" : s);
    }

    private static String write(Object value) {
        try {
            return Json.mapper().writeValueAsString(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
