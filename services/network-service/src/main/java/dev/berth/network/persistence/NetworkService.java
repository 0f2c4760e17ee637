package dev.berth.network.persistence;

import dev.berth.events.DomainException;
import dev.berth.events.EventCodec;
import dev.berth.eventstore.Aggregates;
import dev.berth.eventstore.EventMetadata;
import dev.berth.network.domain.Cidr;
import dev.berth.network.domain.NetworkCommand;
import dev.berth.network.domain.NetworkCommand.CreateNetwork;
import dev.berth.network.domain.NetworkDecider;
import dev.berth.network.domain.NetworkEvent;
import dev.berth.network.domain.NetworkEvent.NetworkCreated;
import dev.berth.network.projection.NetworkView;
import io.smallrye.mutiny.Uni;
import io.vertx.pgclient.PgException;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.JDBCException;
import org.hibernate.reactive.mutiny.Mutiny;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs network commands through the event store and reads the network read model.
 *
 * <p>Every tenant has the predefined networks {@code bridge}, {@code host} and {@code none} as real aggregates with
 * ids derived from the tenant: they are created (as events) the first time the tenant touches the network API, before
 * any of its own networks, so its bridge always holds {@code 172.17.0.0/16}; the default tenant's are made at start-up.
 * Each tenant has its own address space, as if it had a Docker daemon of its own.
 */
@ApplicationScoped
public class NetworkService {

    public static final String AGGREGATE_TYPE = "network";
    private static final EventCodec<NetworkEvent> CODEC = EventCodec.of(NetworkEvent.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int ATTEMPTS = 10;
    private static final List<String> PREDEFINED_ORDER = List.of(NetworkDecider.BRIDGE, NetworkDecider.HOST,
            NetworkDecider.NONE);

    private final Aggregates aggregates;
    private final Mutiny.SessionFactory sessions;
    private final NetworkDecider decider = new NetworkDecider();
    /** Tenants whose predefined networks are known to exist (they are never removed). */
    private final Set<String> seeded = ConcurrentHashMap.newKeySet();

    public NetworkService(Aggregates aggregates, Mutiny.SessionFactory sessions) {
        this.aggregates = aggregates;
        this.sessions = sessions;
    }

    /** A network as the read model holds it. */
    public record StoredNetwork(NetworkCreated created, String tenant) {
    }

    /** Makes sure the tenant's predefined networks exist; cheap once done. */
    public Uni<Void> ensurePredefined(String tenant) {
        if (seeded.contains(tenant)) {
            return Uni.createFrom().voidItem();
        }
        Uni<Void> chain = Uni.createFrom().voidItem();
        for (String name : PREDEFINED_ORDER) {
            String id = NetworkDecider.predefinedId(tenant, name);
            chain = chain.chain(() -> retrying(() -> aggregates.handle(AGGREGATE_TYPE, id, decider,
                    NetworkEvent.class, new NetworkCommand.EnsurePredefined(id, name, Instant.now()),
                    EventMetadata.of(tenant))).replaceWithVoid());
        }
        return chain.invoke(() -> seeded.add(tenant));
    }

    /**
     * Creates a user network.
     *
     * @param template the command without id, snapshot and time (those are filled in here, afresh on each attempt)
     * @return the created network
     */
    public Uni<NetworkCreated> create(String tenant, CreateNetwork template) {
        return ensurePredefined(tenant).chain(() -> retrying(() -> namesIn(tenant).chain(names -> takenSubnets(tenant)
                .chain(taken -> {
                    String id = randomId();
                    CreateNetwork command = new CreateNetwork(id, template.name(), template.driver(),
                            template.internal(), template.attachable(), template.ingress(), template.enableIPv6(),
                            template.ipamDriver(), template.ipamOptions(), template.ipam(), template.options(),
                            template.labels(), Instant.now(), names, taken);
                    return aggregates.handle(AGGREGATE_TYPE, id, decider, NetworkEvent.class, command,
                            EventMetadata.of(tenant));
                }))).map(d -> d.state().created()));
    }

    /**
     * Removes a network found by id, name or id prefix.
     *
     * @return the removed network
     */
    public Uni<NetworkCreated> remove(String tenant, String term) {
        return find(tenant, term).chain(found -> aggregates.handle(AGGREGATE_TYPE, found.id(), decider,
                NetworkEvent.class, new NetworkCommand.RemoveNetwork(found.id()), EventMetadata.of(tenant))
                .replaceWith(found));
    }

    /**
     * Finds a tenant's network as Docker does: exact id, then exact name, then unique id prefix.
     *
     * @throws DomainException 404 {@code network x not found}; 400 when a prefix matches several networks
     */
    public Uni<NetworkCreated> find(String tenant, String term) {
        return list(tenant).map(all -> {
            for (NetworkCreated n : all) {
                if (n.id().equals(term)) {
                    return n;
                }
            }
            for (NetworkCreated n : all) {
                if (n.name().equals(term)) {
                    return n;
                }
            }
            List<NetworkCreated> byPrefix = term.isEmpty() ? List.of()
                    : all.stream().filter(n -> n.id().startsWith(term)).toList();
            if (byPrefix.size() > 1) {
                throw DomainException.badRequest("network " + term + " is ambiguous (" + byPrefix.size()
                        + " matches found based on ID prefix)");
            }
            if (byPrefix.isEmpty()) {
                throw DomainException.notFound("network " + term + " not found");
            }
            return byPrefix.get(0);
        });
    }

    /** Every network of the tenant, predefined ones first, then by creation. */
    public Uni<List<NetworkCreated>> list(String tenant) {
        return ensurePredefined(tenant).chain(() -> sessions.withSession(s -> s.createQuery(
                        "from NetworkView v where v.tenant = :tenant order by v.predefined desc, v.createdAt, v.name",
                        NetworkView.class).setParameter("tenant", tenant).getResultList()))
                .map(views -> views.stream().map(NetworkService::toCreated).toList());
    }

    private Uni<Set<String>> namesIn(String tenant) {
        return sessions.withSession(s -> s.createQuery("select v.name from NetworkView v where v.tenant = :tenant",
                String.class).setParameter("tenant", tenant).getResultList()).map(Set::copyOf);
    }

    private Uni<List<Cidr>> takenSubnets(String tenant) {
        return sessions.withSession(s -> s.createNativeQuery(
                        "select cast(subnet as text) from network_subnet where tenant = ?1", String.class)
                .setParameter(1, tenant).getResultList()).map(rows -> rows.stream().map(Cidr::parse).toList());
    }

    private static NetworkCreated toCreated(NetworkView view) {
        return (NetworkCreated) CODEC.decode("dev.berth.network.created.v1", view.dataJson);
    }

    private static String randomId() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    /**
     * Runs an action again when a read-model constraint (unique name, non-overlapping subnets) refused its commit:
     * another command won the race, and the next attempt sees it in a fresh snapshot and decides accordingly.
     */
    private static <T> Uni<T> retrying(java.util.function.Supplier<Uni<? extends T>> action) {
        return Uni.createFrom().<T>deferred(action)
                .onFailure(NetworkService::isConstraintViolation).retry()
                .withBackOff(Duration.ofMillis(5), Duration.ofMillis(200)).withJitter(0.5).atMost(ATTEMPTS)
                .onFailure(NetworkService::isConstraintViolation).transform(e -> new DomainException(409,
                        "conflict with a concurrent network change, try again"));
    }

    static boolean isConstraintViolation(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String state = t instanceof PgException pg ? pg.getSqlState()
                    : t instanceof JDBCException jdbc ? jdbc.getSQLState() : null;
            // unique_violation (a name) or exclusion_violation (a subnet)
            if ("23505".equals(state) || "23P01".equals(state)) {
                return true;
            }
        }
        return false;
    }
}
