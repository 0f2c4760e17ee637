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
}
