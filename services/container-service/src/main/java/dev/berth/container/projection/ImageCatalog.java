package dev.berth.container.projection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.events.DomainException;
import dev.berth.events.EventEnvelope;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The images of each tenant as container-service sees them, kept from image-service's events (docs/images.md):
 * id, config and layers in {@code image_info}, references in {@code image_ref}. Resolves what a client writes in
 * {@code docker create IMAGE} the way Docker does: full id, then reference, then id prefix.
 */
@ApplicationScoped
public class ImageCatalog {

    static final String IMPORTED = "dev.berth.image.imported.v1";
    static final String LOADED = "dev.berth.image.loaded.v1";
    static final String PUSHED = "dev.berth.image.pushed.v1";
    static final String PULLED = "dev.berth.image.pulled.v1";
    static final String BUILT = "dev.berth.image.built.v1";
    static final String TAGGED = "dev.berth.image.tagged.v1";
    static final String UNTAGGED = "dev.berth.image.untagged.v1";
    static final String DELETED = "dev.berth.image.deleted.v1";

    private static final Pattern FULL_ID = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern ID_PREFIX = Pattern.compile("(sha256:)?[0-9a-f]{1,64}");
    // Docker's reference grammar, simplified: lower-case path components, optional registry host and tag.
    private static final Pattern REFERENCE = Pattern.compile(
            "([a-zA-Z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[\\w][\\w.-]{0,127})?");

    private final ObjectMapper json;
    private final Mutiny.SessionFactory sessions;

    public ImageCatalog(ObjectMapper json, Mutiny.SessionFactory sessions) {
        this.json = json;
        this.sessions = sessions;
    }

    /**
     * A resolved image: its id, the config fields of docs/images.md (Docker's names; a missing field is null) and its
     * layers ({@code [{digest, diffId, size, mediaType, unpackedSize}]}, base first).
     */
    public record ImageRecord(String id, JsonNode config, JsonNode layers) {
    }

    /** Applies one image event in the consumer's transaction; other types are ignored. */
    public Uni<Void> apply(Mutiny.Session session, EventEnvelope event) {
        JsonNode data = read(event.data());
        String tenant = event.tenant();
        String imageId = data.path("imageId").asText();
        return switch (event.type()) {
            case IMPORTED, LOADED, PUSHED, PULLED, BUILT -> {
                String config = data.path("config").isObject() ? data.get("config").toString() : "{}";
                String layers = data.path("layers").isArray() ? data.get("layers").toString() : "[]";
                Uni<Void> chain = update(session, "insert into image_info (tenant, image_id, config_json, layers_json)"
                        + " values (?1, ?2, ?3, ?4) on conflict (tenant, image_id) do update"
                        + " set config_json = excluded.config_json, layers_json = excluded.layers_json",
                        tenant, imageId, config, layers);
                for (JsonNode tag : data.path("repoTags")) {
                    chain = chain.chain(() -> tag(session, tenant, tag.asText(), imageId));
                }
                yield chain;
            }
            case TAGGED -> tag(session, tenant, data.path("reference").asText(), imageId);
            case UNTAGGED -> update(session, "delete from image_ref where tenant = ?1 and reference = ?2"
                    + " and image_id = ?3", tenant, normalize(data.path("reference").asText()), imageId);
            case DELETED -> update(session, "delete from image_ref where tenant = ?1 and image_id = ?2", tenant, imageId)
                    .chain(() -> update(session, "delete from image_info where tenant = ?1 and image_id = ?2",
                            tenant, imageId));
            default -> Uni.createFrom().voidItem();
        };
    }

    private Uni<Void> tag(Mutiny.Session session, String tenant, String reference, String imageId) {
        return update(session, "insert into image_ref (tenant, reference, image_id) values (?1, ?2, ?3)"
                + " on conflict (tenant, reference) do update set image_id = excluded.image_id",
                tenant, normalize(reference), imageId);
    }

    /**
     * Resolves an image as {@code docker create} names it.
     *
     * @throws DomainException 404 {@code No such image: x} (the CLI then pulls), 400 {@code invalid reference format}
     */
    public Uni<ImageRecord> resolve(String tenant, String reference) {
        if (reference == null || reference.isEmpty()) {
            return Uni.createFrom().failure(DomainException.badRequest("invalid reference format"));
        }
        boolean idLike = ID_PREFIX.matcher(reference).matches();
        if (!idLike && !REFERENCE.matcher(reference).matches()) {
            boolean upper = !reference.toLowerCase().equals(reference)
                    && REFERENCE.matcher(reference.toLowerCase()).matches();
            return Uni.createFrom().failure(DomainException.badRequest(upper
                    ? "invalid reference format: repository name (" + reference + ") must be lowercase"
                    : "invalid reference format"));
        }
        return sessions.withSession(s -> candidates(s, tenant, reference, idLike).chain(found -> {
            if (found.size() != 1) {
                return Uni.createFrom().<ImageRecord>failure(DomainException.notFound("No such image: " + reference));
            }
            return s.createNativeQuery("select config_json, layers_json from image_info where tenant = ?1"
                                    + " and image_id = ?2", Object[].class)
                    .setParameter(1, tenant).setParameter(2, found.get(0)).getResultList()
                    .map(rows -> rows.isEmpty() ? new ImageRecord(found.get(0), read("{}"), read("[]"))
                            : new ImageRecord(found.get(0), read((String) rows.get(0)[0]), read((String) rows.get(0)[1])));
        }));
    }

    /** The layers of an image of the tenant ({@code []} when it is no longer known). */
    public Uni<JsonNode> layers(String tenant, String imageId) {
        return sessions.withSession(s -> s.createNativeQuery("select layers_json from image_info where tenant = ?1"
                        + " and image_id = ?2", String.class).setParameter(1, tenant).setParameter(2, imageId)
                .getResultList()).map(rows -> read(rows.isEmpty() ? "[]" : rows.get(0)));
    }

    private static Uni<List<String>> candidates(Mutiny.Session s, String tenant, String reference, boolean idLike) {
        if (FULL_ID.matcher(reference).matches()) {
            return ids(s, "select image_id from image_info where tenant = ?1 and image_id = ?2", tenant, reference);
        }
        return ids(s, "select image_id from image_ref where tenant = ?1 and reference = ?2", tenant,
                normalize(reference)).chain(byRef -> {
            if (!byRef.isEmpty() || !idLike) {
                return Uni.createFrom().item(byRef);
            }
            String prefix = reference.startsWith("sha256:") ? reference : "sha256:" + reference;
            return ids(s, "select image_id from image_info where tenant = ?1 and image_id like ?2", tenant,
                    prefix + "%");
        });
    }

    /** Docker's familiar form: {@code busybox} is {@code busybox:latest}; the docker.io prefixes go. */
    public static String normalize(String reference) {
        String r = reference;
        if (r.startsWith("docker.io/library/")) {
            r = r.substring("docker.io/library/".length());
        } else if (r.startsWith("docker.io/")) {
            r = r.substring("docker.io/".length());
        }
        if (r.contains("@")) {
            return r;
        }
        int slash = r.lastIndexOf('/');
        return r.indexOf(':', slash + 1) < 0 ? r + ":latest" : r;
    }

    private static Uni<List<String>> ids(Mutiny.Session s, String sql, String tenant, String value) {
        return s.createNativeQuery(sql, String.class).setParameter(1, tenant).setParameter(2, value).getResultList();
    }

    private static Uni<Void> update(Mutiny.Session session, String sql, Object... params) {
        var query = session.createNativeQuery(sql);
        for (int i = 0; i < params.length; i++) {
            query.setParameter(i + 1, params[i]);
        }
        return query.executeUpdate().replaceWithVoid();
    }

    private JsonNode read(String value) {
        try {
            return json.readTree(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
