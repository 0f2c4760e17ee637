package dev.berth.volume.projection;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.events.EventCodec;
import dev.berth.eventstore.Projection;
import dev.berth.eventstore.StoredEvent;
import dev.berth.volume.domain.VolumeEvent;
import dev.berth.volume.domain.VolumeEvent.VolumeCreated;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.io.UncheckedIOException;

/** Keeps {@code volume_view} equal to the fold of the volume events. */
@ApplicationScoped
public class VolumeProjection implements Projection {

    static final String CREATED = "dev.berth.volume.created.v1";
    static final String REMOVED = "dev.berth.volume.removed.v1";

    private static final EventCodec<VolumeEvent> CODEC = EventCodec.of(VolumeEvent.class);
    private final ObjectMapper json;

    public VolumeProjection(ObjectMapper json) {
        this.json = json;
    }

    @Override
    public String name() {
        return "volumes";
    }

    @Override
    public Uni<Void> apply(Mutiny.Session session, StoredEvent event) {
        if (CREATED.equals(event.type())) {
            VolumeCreated created = (VolumeCreated) CODEC.decode(event.type(), event.data());
            return session.find(VolumeView.class, event.aggregateId()).chain(existing -> {
                VolumeView view = existing != null ? existing : new VolumeView();
                view.id = event.aggregateId();
                view.tenant = event.tenant();
                view.name = created.name();
                view.driver = created.driver();
                view.mountpoint = created.mountpoint();
                view.createdAt = created.createdAt();
                view.labelsJson = write(created.labels() == null ? java.util.Map.of() : created.labels());
                view.optionsJson = created.options() == null ? null : write(created.options());
                return existing != null ? Uni.createFrom().voidItem() : session.persist(view);
            }).chain(session::flush);
        }
        if (REMOVED.equals(event.type())) {
            return session.find(VolumeView.class, event.aggregateId())
                    .chain(view -> view == null ? Uni.createFrom().voidItem() : session.remove(view))
                    .chain(session::flush);
        }
        return Uni.createFrom().voidItem();
    }

    @Override
    public Uni<Void> reset(Mutiny.Session session) {
        return session.createNativeQuery("delete from volume_view").executeUpdate().replaceWithVoid();
    }

    private String write(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
