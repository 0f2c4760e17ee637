package dev.berth.eventstore.sample;

import dev.berth.events.EventCodec;
import dev.berth.eventstore.Projection;
import dev.berth.eventstore.StoredEvent;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

/** How many volumes each tenant has: a second read model, fed by the same events. */
@ApplicationScoped
public class TenantCountProjection implements Projection {
    private final EventCodec<VolumeEvent> codec = EventCodec.of(VolumeEvent.class);

    @Override
    public String name() {
        return "test-tenant-counts";
    }

    @Override
    public Uni<Void> apply(Mutiny.Session session, StoredEvent event) {
        if (!codec.knows(event.type())) {
            return Uni.createFrom().voidItem();
        }
        VolumeEvent e = codec.decode(event.type(), event.data());
        int delta = e instanceof VolumeEvent.Created ? 1 : e instanceof VolumeEvent.Removed ? -1 : 0;
        if (delta == 0) {
            return Uni.createFrom().voidItem();
        }
        return session.createNativeQuery("INSERT INTO test_tenant_counts (tenant, volumes) VALUES (?1, ?2)"
                        + " ON CONFLICT (tenant) DO UPDATE SET volumes = test_tenant_counts.volumes + ?2")
                .setParameter(1, event.tenant() == null ? "" : event.tenant()).setParameter(2, delta)
                .executeUpdate().replaceWithVoid();
    }

    @Override
    public Uni<Void> reset(Mutiny.Session session) {
        return session.createNativeQuery("DELETE FROM test_tenant_counts").executeUpdate().replaceWithVoid();
    }
}
