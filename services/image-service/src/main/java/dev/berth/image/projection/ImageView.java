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

    /** {@code sha256:<hex>} of the image config. */
    @Id
    public String id;
    @Column(nullable = false)
    public String tenant;
    /** JSON array of {@code repository:tag}. */
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
}
