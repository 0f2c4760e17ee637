package dev.berth.image.registry;

import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

/**
 * Which repositories a tenant has in the registry's sense. A repository exists once a tag of the tenant has named an
 * image in it, and stays after its last tag is deleted (its tag list is then empty, not unknown), as in a registry
 * where deleting every tag leaves the repository. The tag history read model ({@code tag_history}) answers this.
 */
@ApplicationScoped
public class Repositories {

    private final Mutiny.SessionFactory sessions;

    public Repositories(Mutiny.SessionFactory sessions) {
        this.sessions = sessions;
    }

    /**
     * Whether a tag of the tenant has ever named an image in the repository.
     *
     * @param repository the familiar repository name ({@code app/web}, {@code localhost:5000/x}), without a tag
     */
    public Uni<Boolean> known(String tenant, String repository) {
        String prefix = repository + ":";
        // the rest after "<repository>:" is a tag (no ':' or '/'), so "localhost" does not match "localhost:5000/x:1"
        return sessions.withSession(s -> s.createNativeQuery(
                        "select exists (select 1 from tag_history where tenant = :tenant"
                                + " and left(reference, :len) = :prefix"
                                + " and strpos(substr(reference, :len + 1), ':') = 0"
                                + " and strpos(substr(reference, :len + 1), '/') = 0)", Boolean.class)
                .setParameter("tenant", tenant).setParameter("len", prefix.length()).setParameter("prefix", prefix)
                .getSingleResult());
    }
}
