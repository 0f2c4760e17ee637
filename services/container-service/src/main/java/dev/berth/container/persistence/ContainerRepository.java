package dev.berth.container.persistence;

import dev.berth.container.projection.ContainerView;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.util.List;

/** Reads the container read model. */
@ApplicationScoped
public class ContainerRepository {

    private final Mutiny.SessionFactory sessions;

    public ContainerRepository(Mutiny.SessionFactory sessions) {
        this.sessions = sessions;
    }

    /** Every container of the tenant, newest first (the order {@code docker ps} prints). */
    public Uni<List<ContainerView>> list(String tenant) {
        return sessions.withSession(s -> s.createQuery(
                        "from ContainerView c where c.tenant = :tenant order by c.createdAt desc, c.id",
                        ContainerView.class)
                .setParameter("tenant", tenant).getResultList());
    }

    /**
     * One container of the tenant by full id, name (with or without slash) or unique id prefix, or null.
     *
     * @throws dev.berth.events.DomainException (as the Uni's failure) 400 when a prefix matches several
     */
    public Uni<ContainerView> find(String tenant, String reference) {
        return list(tenant).map(rows -> {
            String id = dev.berth.container.domain.Containers.resolveOrNull(
                    rows.stream().map(r -> r.id).toList(), reference,
                    name -> rows.stream().filter(r -> r.name.equals(name)).map(r -> r.id).findFirst().orElse(null));
            return id == null ? null : rows.stream().filter(r -> r.id.equals(id)).findFirst().orElseThrow();
        });
    }

    /** A container of any tenant by full id, or null (for the node's observations, which name no tenant). */
    public Uni<ContainerView> byId(String id) {
        return sessions.withSession(s -> s.find(ContainerView.class, id));
    }
}
