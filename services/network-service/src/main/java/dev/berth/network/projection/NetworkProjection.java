package dev.berth.network.projection;

import dev.berth.events.EventCodec;
import dev.berth.eventstore.Projection;
import dev.berth.eventstore.StoredEvent;
import dev.berth.network.domain.NetworkEvent;
import dev.berth.network.domain.NetworkEvent.IpamConfig;
import dev.berth.network.domain.NetworkEvent.NetworkCreated;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

/** Keeps {@code network_view} and {@code network_subnet} equal to the fold of the network events. */
@ApplicationScoped
public class NetworkProjection implements Projection {

    private static final EventCodec<NetworkEvent> CODEC = EventCodec.of(NetworkEvent.class);

    @Override
    public String name() {
        return "networks";
    }

    @Override
    public Uni<Void> apply(Mutiny.Session session, StoredEvent event) {
        if (!CODEC.knows(event.type())) {
            return Uni.createFrom().voidItem();
        }
        NetworkEvent decoded = CODEC.decode(event.type(), event.data());
        if (decoded instanceof NetworkCreated created) {
            NetworkView view = new NetworkView();
            view.id = created.id();
            view.tenant = event.tenant();
            view.name = created.name();
            view.driver = created.driver();
            view.predefined = created.predefined();
            view.createdAt = created.created();
            view.dataJson = event.data();
            // Flushed at once so that a name or subnet conflict fails this command, not a later one.
            return session.persist(view).chain(session::flush)
                    .chain(() -> Multi.createFrom().iterable(created.ipam())
                            .onItem().transformToUniAndConcatenate(block -> insertSubnet(session, created.id(), event.tenant(), block))
                            .collect().last())
                    .replaceWithVoid();
        }
        return session.find(NetworkView.class, event.aggregateId())
                .chain(view -> view == null ? Uni.createFrom().voidItem() : session.remove(view))
                .chain(session::flush)
                .chain(() -> session.createNativeQuery("delete from network_subnet where network_id = ?1")
                        .setParameter(1, event.aggregateId()).executeUpdate())
                .replaceWithVoid();
    }

    private static Uni<Integer> insertSubnet(Mutiny.Session session, String networkId, String tenant,
                                             IpamConfig block) {
        // The text cast keeps the parameter a string: the client cannot encode a Java string as cidr.
        return session.createNativeQuery("insert into network_subnet (network_id, tenant, subnet)"
                        + " values (?1, ?2, cast(cast(?3 as text) as cidr))")
                .setParameter(1, networkId).setParameter(2, tenant).setParameter(3, block.subnet()).executeUpdate();
    }

    @Override
    public Uni<Void> reset(Mutiny.Session session) {
        return session.createNativeQuery("delete from network_subnet").executeUpdate()
                .chain(() -> session.createNativeQuery("delete from network_view").executeUpdate())
                .replaceWithVoid();
    }
}
