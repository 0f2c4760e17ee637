package dev.berth.eventstore.sample;

import dev.berth.events.EventCodec;
import dev.berth.eventstore.Projection;
import dev.berth.eventstore.StoredEvent;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

/** The list of volumes, as {@code GET /volumes} would read it. */
@ApplicationScoped
public class VolumeListProjection implements Projection {
    private final EventCodec<VolumeEvent> codec = EventCodec.of(VolumeEvent.class);

    @Override
    public String name() {
        return "test-volumes";
    }

    @Override
    public Uni<Void> apply(Mutiny.Session session, StoredEvent event) {
        if (!codec.knows(event.type())) {
            return Uni.createFrom().voidItem();
        }
        VolumeEvent e = codec.decode(event.type(), event.data());
        if (e instanceof VolumeEvent.Created c) {
            return session.createNativeQuery("INSERT INTO test_volumes (id, tenant, name, labels, version)"
                            + " VALUES (?1, ?2, ?3, cast(cast(?4 as text) as jsonb), ?5)")
                    .setParameter(1, event.aggregateId()).setParameter(2, event.tenant())
                    .setParameter(3, c.name()).setParameter(4, EventCodec.toJson(c.labels()))
                    .setParameter(5, event.version())
                    .executeUpdate().replaceWithVoid();
        }
        if (e instanceof VolumeEvent.Labelled l) {
            return session.createNativeQuery("UPDATE test_volumes SET labels = labels"
                            + " || jsonb_build_object(cast(?1 as text), cast(?2 as text)), version = ?3 WHERE id = ?4")
                    .setParameter(1, l.key()).setParameter(2, l.value()).setParameter(3, event.version())
                    .setParameter(4, event.aggregateId())
                    .executeUpdate().replaceWithVoid();
        }
        return session.createNativeQuery("DELETE FROM test_volumes WHERE id = ?1")
                .setParameter(1, event.aggregateId())
                .executeUpdate().replaceWithVoid();
    }

    @Override
    public Uni<Void> reset(Mutiny.Session session) {
        return session.createNativeQuery("DELETE FROM test_volumes").executeUpdate().replaceWithVoid();
    }
}
