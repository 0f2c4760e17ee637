package dev.berth.eventstore;

import io.smallrye.mutiny.Uni;
import org.hibernate.reactive.mutiny.Mutiny;

/**
 * A read model kept in the service's database. CDI beans implementing this are applied, in the appending transaction,
 * to every event the service appends; {@link #reset} then re-applying every event from the log (replay) must give the
 * same read model.
 */
public interface Projection {

    /** A stable name, used in logs and by the replay endpoint. */
    String name();

    /** Applies one event (ignore types it does not care about). Must be deterministic. */
    Uni<Void> apply(Mutiny.Session session, StoredEvent event);

    /** Deletes the read model's rows, before a replay. */
    Uni<Void> reset(Mutiny.Session session);
}
