package dev.berth.image.persistence;

import dev.berth.image.projection.ImageView;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.util.List;

/** Reads the image read model. */
@ApplicationScoped
public class ImageRepository {

    private final Mutiny.SessionFactory sessions;

    public ImageRepository(Mutiny.SessionFactory sessions) {
        this.sessions = sessions;
    }

    /** Every image of the tenant, newest first (the order {@code docker images} prints). */
    public Uni<List<ImageView>> list(String tenant) {
        return sessions.withSession(s -> s.createQuery(
                        "from ImageView i where i.tenant = :tenant order by i.createdAt desc, i.id", ImageView.class)
                .setParameter("tenant", tenant).getResultList());
    }
}
