package dev.berth.image.projection;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.Instant;

/** One row per image of a tenant: what {@code GET /images/json} lists. Written only by {@link ImageProjection}. */
@Entity
@Table(name = "image_view")
public class ImageView {

    /** {@code <tenant>/<id>}. */
    @Id
    @Column(name = "view_key")
    public String key;
    @Column(nullable = false)
    public String tenant;
    /** {@code sha256:<hex>} of the image config. */
    @Column(nullable = false)
    public String id;
    /** JSON array of familiar {@code repository:tag}. */
    @Column(name = "repo_tags", nullable = false)
    public String repoTags;
    /** JSON array of {@code repository@sha256:...}. */
    @Column(name = "repo_digests", nullable = false)
    public String repoDigests;
    @Column(name = "parent_id", nullable = false)
    public String parentId;
    @Column(name = "created_at", nullable = false)
    public Instant createdAt;
    @Column(nullable = false)
    public long size;
    @Column(name = "labels_json", nullable = false)
    public String labelsJson;
    @Column(nullable = false)
    public String comment;
    @Column(nullable = false)
    public String architecture;
    @Column(nullable = false)
    public String os;
    @Column(name = "manifest_digest", nullable = false)
    public String manifestDigest;
    /** JSON array of the event's layers. */
    @Column(name = "layers_json", nullable = false)
    public String layersJson;
    /** JSON of the event's runtime config. */
    @Column(name = "runtime_json", nullable = false)
    public String runtimeJson;
    @Column(name = "last_tag_time")
    public Instant lastTagTime;

    public static String key(String tenant, String id) {
        return tenant + "/" + id;
    }
}
