package dev.berth.volume.projection;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.Instant;

/** One row per existing volume: what {@code GET /volumes} lists. Written only by {@link VolumeProjection}. */
@Entity
@Table(name = "volume_view")
public class VolumeView {

    /** The aggregate id, {@code <tenant>/<name>}. */
    @Id
    public String id;
    @Column(nullable = false)
    public String tenant;
    @Column(nullable = false)
    public String name;
    @Column(nullable = false)
    public String driver;
    @Column(nullable = false)
    public String mountpoint;
    @Column(name = "created_at", nullable = false)
    public Instant createdAt;
    /** JSON object of the labels. */
    @Column(name = "labels_json", nullable = false)
    public String labelsJson;
    /** JSON object of the driver options, null when none were given. */
    @Column(name = "options_json")
    public String optionsJson;
}
