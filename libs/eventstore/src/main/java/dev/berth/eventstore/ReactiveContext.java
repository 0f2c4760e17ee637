package dev.berth.eventstore;

import io.quarkus.vertx.core.runtime.context.VertxContextSafetyToggle;
import io.smallrye.common.vertx.VertxContext;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.function.Supplier;

/**
 * Runs Hibernate Reactive work on a safe, duplicated Vert.x context, which Quarkus requires for a reactive session.
 * Callers already on such a context (a REST resource, code inside a reactive session) keep theirs, and so share the
 * session and transaction; any other caller (a test, a scheduler, a Kafka consumer, a worker) gets a fresh duplicated
 * context, so the event store can be called from anywhere.
 */
final class ReactiveContext {
    private ReactiveContext() {
    }

    static <T> Uni<T> run(Vertx vertx, Supplier<Uni<T>> work) {
        Context current = Vertx.currentContext();
        if (current != null && VertxContext.isDuplicatedContext(current)
                && VertxContextSafetyToggle.isExplicitlyMarkedAsSafe(current)) {
            return Uni.createFrom().deferred(work::get);
        }
        return Uni.createFrom().emitter(emitter -> {
            Context context = VertxContext.createNewDuplicatedContext(vertx.getOrCreateContext());
            VertxContextSafetyToggle.setContextSafe(context, true);
            context.runOnContext(ignored -> {
                Uni<T> uni;
                try {
                    uni = work.get();
                } catch (RuntimeException e) {
                    emitter.fail(e);
                    return;
                }
                uni.subscribe().with(emitter::complete, emitter::fail);
            });
        });
    }
}
