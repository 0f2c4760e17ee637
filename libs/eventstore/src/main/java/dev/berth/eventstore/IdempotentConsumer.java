package dev.berth.eventstore;

import dev.berth.events.EventEnvelope;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Applies a message at most once per consumer. The message id goes into {@code processed_messages} first, in the same
 * transaction as the work: if it is already there the work is skipped; if the work fails, the whole transaction
 * (including the id) rolls back, so a redelivery tries again. Concurrent deliveries of one id serialise on the key.
 */
@ApplicationScoped
public class IdempotentConsumer {
    private final Mutiny.SessionFactory sessions;
    private final Vertx vertx;

    public IdempotentConsumer(Mutiny.SessionFactory sessions, Vertx vertx) {
        this.sessions = sessions;
        this.vertx = vertx;
    }

    /**
     * Runs {@code work} unless this consumer already processed {@code messageId}.
     *
     * @return true if the work ran and committed, false if the message was a duplicate
     */
    public Uni<Boolean> processOnce(String consumer, String messageId, Function<Mutiny.Session, Uni<?>> work) {
        return ReactiveContext.run(vertx, () -> sessions.withTransaction(session -> session
                .createNativeQuery("INSERT INTO processed_messages (consumer, message_id) VALUES (?1, ?2)"
                        + " ON CONFLICT DO NOTHING")
                .setParameter(1, consumer)
                .setParameter(2, messageId)
                .executeUpdate()
                .flatMap(inserted -> inserted == 0
                        ? Uni.createFrom().item(false)
                        : work.apply(session).replaceWith(true))));
    }

    /** {@link #processOnce(String, String, Function)} keyed by the event's CloudEvents id. */
    public Uni<Boolean> processOnce(String consumer, EventEnvelope event,
                                    BiFunction<Mutiny.Session, EventEnvelope, Uni<?>> work) {
        return processOnce(consumer, event.id(), session -> work.apply(session, event));
    }
}
