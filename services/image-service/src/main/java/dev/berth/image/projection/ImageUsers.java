package dev.berth.image.projection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.events.EventEnvelope;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.io.IOException;

/**
 * Keeps {@code image_user} (which containers of a tenant use which image, and whether they run) from the container
 * events of {@code berth.containers.events}. {@code docker rmi} and image prune read it to refuse removing an image
 * in use, as Docker does.
 *
 * <p>Only container-service's published payloads are read (JSON, docs/containers.md), never its tables. What counts
 * as running follows Docker's {@code State.IsRunning()}: a paused container is running, and so is one that died and
 * will be restarted by its policy (Docker marks a restarting container running).
 */
@ApplicationScoped
public class ImageUsers {

    public static final String CREATED = "dev.berth.container.created.v1";
    public static final String REMOVED = "dev.berth.container.removed.v1";
    public static final String STARTED = "dev.berth.container.started.v1";
    public static final String RESTARTED_BY_POLICY = "dev.berth.container.restarted-by-policy.v1";
    public static final String RESTARTED = "dev.berth.container.restarted.v1";
    public static final String DIED = "dev.berth.container.died.v1";
    public static final String STOPPED = "dev.berth.container.stopped.v1";

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Applies one container event in the caller's transaction; other event types change nothing.
     *
     * @throws IllegalArgumentException (failing the Uni) if the payload is not JSON or names no container
     */
    public Uni<Void> apply(Mutiny.Session session, EventEnvelope event) {
        Change change = change(event);
        if (change == null) {
            return Uni.createFrom().voidItem();
        }
        String tenant = tenant(event);
        return switch (change.kind()) {
            case CREATED -> change.imageId() == null ? Uni.createFrom().voidItem()
                    : session.createNativeQuery("insert into image_user (tenant, container_id, image_id, running)"
                            + " values (:tenant, :container, :image, false) on conflict do nothing")
                    .setParameter("tenant", tenant).setParameter("container", change.containerId())
                    .setParameter("image", change.imageId()).executeUpdate().replaceWithVoid();
            case REMOVED -> session.createNativeQuery(
                            "delete from image_user where tenant = :tenant and container_id = :container")
                    .setParameter("tenant", tenant).setParameter("container", change.containerId())
                    .executeUpdate().replaceWithVoid();
            case RUNNING, NOT_RUNNING -> session.createNativeQuery(
                            "update image_user set running = :running where tenant = :tenant and container_id = :container")
                    .setParameter("running", change.kind() == Kind.RUNNING).setParameter("tenant", tenant)
                    .setParameter("container", change.containerId()).executeUpdate().replaceWithVoid();
        };
    }

    /** What an event does to {@code image_user}. */
    public enum Kind { CREATED, REMOVED, RUNNING, NOT_RUNNING }

    /** A change to one container's row; {@code imageId} only for {@link Kind#CREATED} (null if the spec has none). */
    public record Change(Kind kind, String containerId, String imageId) {
    }

    /**
     * The change an event makes, or null for an event that changes nothing here (renames, kills, pauses, failed
     * starts, a death followed by a policy restart, other aggregates' events).
     *
     * @throws IllegalArgumentException if a relevant event's payload is not JSON or names no container
     */
    public static Change change(EventEnvelope event) {
        Kind kind = switch (event.type()) {
            case CREATED -> Kind.CREATED;
            case REMOVED -> Kind.REMOVED;
            case STARTED, RESTARTED_BY_POLICY, RESTARTED -> Kind.RUNNING;
            case STOPPED, DIED -> Kind.NOT_RUNNING;
            default -> null;
        };
        if (kind == null) {
            return null;
        }
        JsonNode payload;
        try {
            payload = JSON.readTree(event.data());
        } catch (IOException e) {
            throw new IllegalArgumentException("event " + event.id() + " (" + event.type() + ") is not JSON: "
                    + e.getMessage(), e);
        }
        String containerId = payload.path("containerId").asText("");
        if (containerId.isEmpty()) {
            throw new IllegalArgumentException("event " + event.id() + " (" + event.type() + ") has no containerId");
        }
        if (event.type().equals(DIED) && payload.path("willRestart").asBoolean(false)) {
            return null;
        }
        String imageId = kind == Kind.CREATED ? payload.path("spec").path("imageId").asText(null) : null;
        return new Change(kind, containerId, imageId == null || imageId.isEmpty() ? null : imageId);
    }

    /** The tenant of a container event: {@code ce_tenant}, else the aggregate id {@code <tenant>/containers}. */
    static String tenant(EventEnvelope event) {
        if (event.tenant() != null && !event.tenant().isEmpty()) {
            return event.tenant();
        }
        int slash = event.subject().lastIndexOf('/');
        return slash > 0 ? event.subject().substring(0, slash) : event.subject();
    }
}
