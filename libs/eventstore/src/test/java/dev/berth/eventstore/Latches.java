package dev.berth.eventstore;

import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.util.concurrent.CompletableFuture;

/** Holds a reactive transaction open until the test releases it, resuming on the transaction's own Vert.x context. */
final class Latches {
    private Latches() {
    }

    static Uni<Void> awaitRelease(CompletableFuture<Void> release) {
        Context context = Vertx.currentContext();
        return Uni.createFrom().emitter(emitter ->
                release.whenComplete((ignored, failure) -> context.runOnContext(x -> emitter.complete(null))));
    }
}
