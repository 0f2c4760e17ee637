package dev.berth.network.projection;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.Instant;

/**
 * One row per existing network: what {@code GET /networks} lists. Its subnets are in {@code network_subnet}, where
 * the database keeps them from overlapping. Written only by {@link NetworkProjection}.
 */
@Entity
@Table(name = "network_view")
public class NetworkView {

    @Id
    public String id;
    @Column(nullable = false)
    public String tenant;
    @Column(nullable = false)
    public String name;
    @Column(nullable = false)
    public String driver;
    @Column(nullable = false)
    public boolean predefined;
    @Column(name = "created_at", nullable = false)
    public Instant createdAt;
    /** The creation event's payload. */
    @Column(name = "data_json", nullable = false)
    public String dataJson;
}
