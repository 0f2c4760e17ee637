package dev.berth.volume.persistence;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.eventstore.Aggregates;
import dev.berth.eventstore.EventMetadata;
import dev.berth.volume.domain.Volume;
import dev.berth.volume.domain.VolumeCommand;
import dev.berth.volume.domain.VolumeDecider;
import dev.berth.volume.domain.VolumeEvent;
import dev.berth.volume.projection.VolumeView;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Runs volume commands through the event store and reads the volume read model. Every volume is the aggregate
 * {@code <tenant>/<name>}, so names are unique per tenant by construction of the log.
 */
@ApplicationScoped
public class VolumeService {

    public static final String AGGREGATE_TYPE = "volume";
    private static final TypeReference<Map<String, String>> STRING_MAP = new TypeReference<>() {
    };

    private final Aggregates aggregates;
    private final Mutiny.SessionFactory sessions;
    private final ObjectMapper json;
    private final VolumeDecider decider = new VolumeDecider();

    public VolumeService(Aggregates aggregates, Mutiny.SessionFactory sessions, ObjectMapper json) {
        this.aggregates = aggregates;
        this.sessions = sessions;
        this.json = json;
    }

    /** The aggregate id of a tenant's volume. */
    public static String aggregateId(String tenant, String name) {
        return tenant + "/" + name;
    }

    /**
     * Creates the volume or returns the existing one of that name.
     *
     * @return the volume as it now is
     */
    public Uni<Volume> create(String tenant, String name, String driver, Map<String, String> labels,
                              Map<String, String> options) {
        VolumeDecider.validateName(name);
        var command = new VolumeCommand.CreateVolume(name, VolumeDecider.mountpoint(tenant, name), driver, labels,
                options, Instant.now());
        return aggregates.handle(AGGREGATE_TYPE, aggregateId(tenant, name), decider, VolumeEvent.class, command,
                EventMetadata.of(tenant)).map(Aggregates.Decision::state);
    }

    /**
     * Removes a volume.
     *
     * @return true if it existed and is now removed, false if it did not exist and {@code force} was set
     */
    public Uni<Boolean> remove(String tenant, String name, boolean force) {
        return aggregates.handle(AGGREGATE_TYPE, aggregateId(tenant, name), decider, VolumeEvent.class,
                        new VolumeCommand.RemoveVolume(name, force), EventMetadata.of(tenant))
                .map(d -> !d.events().isEmpty());
    }

    /** One volume of the tenant from the read model, or null. */
    public Uni<Volume> find(String tenant, String name) {
        return sessions.withSession(s -> s.find(VolumeView.class, aggregateId(tenant, name))).map(this::toVolume);
    }

    /** Every volume of the tenant from the read model, by name. */
    public Uni<List<Volume>> list(String tenant) {
        return sessions.withSession(s -> s.createQuery("from VolumeView v where v.tenant = :tenant order by v.name",
                        VolumeView.class).setParameter("tenant", tenant).getResultList())
                .map(views -> views.stream().map(this::toVolume).toList());
    }

    private Volume toVolume(VolumeView v) {
        if (v == null) {
            return null;
        }
        return new Volume(true, v.name, v.driver, v.mountpoint, readMap(v.labelsJson), readMap(v.optionsJson),
                v.createdAt);
    }

    private Map<String, String> readMap(String value) {
        if (value == null) {
            return null;
        }
        try {
            return json.readValue(value, STRING_MAP);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
