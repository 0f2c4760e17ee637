package dev.berth.eventstore;

import io.smallrye.mutiny.Uni;
import org.hibernate.reactive.mutiny.Mutiny;

import java.util.List;

/**
 * The append-only event log of one service (table {@code events}), which is also its outbox.
 *
 * <p>"Load one aggregate" and "tail everything" are separate operations. All methods run in the caller's session and
 * transaction, so that read models updated in the same transaction commit atomically with the events.
 */
public interface EventStore {

    /**
     * Appends events to an aggregate whose current version must be {@code expectedVersion} (0 for a new aggregate).
     * Versions of the new events are expectedVersion+1, +2, ...
     *
     * @return the stored events (with id, position, version, time)
     * @throws ConcurrencyException (as the Uni's failure) if another writer appended first — never a silent overwrite
     */
    Uni<List<StoredEvent>> append(Mutiny.Session session, String aggregateType, String aggregateId, long expectedVersion,
                                  List<NewEvent> events, EventMetadata metadata);

    /** Every event of one aggregate, in version order (empty if none). */
    Uni<List<StoredEvent>> load(Mutiny.Session session, String aggregateId);

    /** The events of one aggregate with a version greater than {@code afterVersion}, in version order. */
    Uni<List<StoredEvent>> loadAfter(Mutiny.Session session, String aggregateId, long afterVersion);

    /** Events with position greater than {@code afterPosition}, in position order, at most {@code limit} (replay). */
    Uni<List<StoredEvent>> readAfter(Mutiny.Session session, long afterPosition, int limit);
}
