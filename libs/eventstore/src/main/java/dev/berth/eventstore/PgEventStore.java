package dev.berth.eventstore;

import dev.berth.events.EventCodec;
import dev.berth.events.Topics;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** {@link EventStore} on PostgreSQL through the caller's Hibernate Reactive session (native SQL). */
@ApplicationScoped
public class PgEventStore implements EventStore {

    static final String COLUMNS = "id, position, aggregate_type, aggregate_id, version, type, tenant, data::text,"
            + " correlation_id, causation_id, time";

    // A WITH makes the insert a query, so that RETURNING comes back as rows.
    private static final String INSERT = "WITH appended AS ("
            + " INSERT INTO events (id, aggregate_type, aggregate_id, version, type, tenant, data, correlation_id,"
            + " causation_id) VALUES (cast(?1 as uuid), ?2, ?3, ?4, ?5, cast(?6 as text), cast(cast(?7 as text) as jsonb),"
            + " cast(cast(?8 as text) as uuid), cast(cast(?9 as text) as uuid))"
            + " RETURNING " + COLUMNS
            + ") SELECT * FROM appended";

    @Override
    public Uni<List<StoredEvent>> append(Mutiny.Session session, String aggregateType, String aggregateId,
                                         long expectedVersion, List<NewEvent> events, EventMetadata metadata) {
        if (aggregateId == null || aggregateId.isBlank()) {
            return Uni.createFrom().failure(new IllegalArgumentException("aggregate id is empty"));
        }
        if (expectedVersion < 0) {
            return Uni.createFrom().failure(new IllegalArgumentException("expected version " + expectedVersion
                    + " is negative"));
        }
        try {
            Topics.forAggregateType(aggregateType);
        } catch (IllegalArgumentException e) {
            return Uni.createFrom().failure(e);
        }
        if (events.isEmpty()) {
            return Uni.createFrom().item(List.of());
        }
        List<StoredEvent> stored = new ArrayList<>(events.size());
        Uni<Void> chain = Uni.createFrom().voidItem();
        long version = expectedVersion;
        for (NewEvent event : events) {
            long next = ++version;
            chain = chain.chain(() -> insert(session, aggregateType, aggregateId, next, event, metadata)
                    .invoke(stored::add).replaceWithVoid());
        }
        return chain
                .onFailure(f -> Rows.isUniqueViolation(f, "events_aggregate_version"))
                .transform(f -> new ConcurrencyException(aggregateId, expectedVersion))
                .replaceWith(() -> List.copyOf(stored));
    }

    private Uni<StoredEvent> insert(Mutiny.Session session, String aggregateType, String aggregateId, long version,
                                    NewEvent event, EventMetadata metadata) {
        String json = event.data() instanceof String s ? s : EventCodec.toJson(event.data());
        return session.<Object[]>createNativeQuery(INSERT, Object[].class)
                .setParameter(1, UUID.randomUUID().toString())
                .setParameter(2, aggregateType)
                .setParameter(3, aggregateId)
                .setParameter(4, version)
                .setParameter(5, event.type())
                .setParameter(6, metadata == null ? null : metadata.tenant())
                .setParameter(7, json)
                .setParameter(8, metadata == null || metadata.correlationId() == null ? null
                        : metadata.correlationId().toString())
                .setParameter(9, metadata == null || metadata.causationId() == null ? null
                        : metadata.causationId().toString())
                .getSingleResult()
                .map(PgEventStore::toStored);
    }

    @Override
    public Uni<List<StoredEvent>> load(Mutiny.Session session, String aggregateId) {
        return session.<Object[]>createNativeQuery("SELECT " + COLUMNS + " FROM events WHERE aggregate_id = ?1"
                        + " ORDER BY version", Object[].class)
                .setParameter(1, aggregateId)
                .getResultList()
                .map(rows -> rows.stream().map(PgEventStore::toStored).toList());
    }

    @Override
    public Uni<List<StoredEvent>> loadAfter(Mutiny.Session session, String aggregateId, long afterVersion) {
        return session.<Object[]>createNativeQuery("SELECT " + COLUMNS + " FROM events WHERE aggregate_id = ?1"
                        + " AND version > ?2 ORDER BY version", Object[].class)
                .setParameter(1, aggregateId)
                .setParameter(2, afterVersion)
                .getResultList()
                .map(rows -> rows.stream().map(PgEventStore::toStored).toList());
    }

    @Override
    public Uni<List<StoredEvent>> readAfter(Mutiny.Session session, long afterPosition, int limit) {
        return session.<Object[]>createNativeQuery("SELECT " + COLUMNS + " FROM events WHERE position > ?1"
                        + " ORDER BY position LIMIT ?2", Object[].class)
                .setParameter(1, afterPosition)
                .setParameter(2, limit)
                .getResultList()
                .map(rows -> rows.stream().map(PgEventStore::toStored).toList());
    }

    static StoredEvent toStored(Object[] r) {
        return new StoredEvent(Rows.toUuid(r[0]), Rows.toLong(r[1]), Rows.toText(r[2]), Rows.toText(r[3]),
                Rows.toLong(r[4]), Rows.toText(r[5]), Rows.toText(r[6]), Rows.toText(r[7]), Rows.toUuid(r[8]),
                Rows.toUuid(r[9]), Rows.toInstant(r[10]));
    }
}
