package dev.berth.container.projection;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

import java.time.Instant;

/** One row per container of a tenant: what {@code GET /containers/json} lists. Written only by {@link ContainerProjection}. */
@Entity
@Table(name = "container_view")
public class ContainerView {

    @Id
    public String id;
    @Column(nullable = false)
    public String tenant;
    /** Without Docker's leading slash. */
    @Column(nullable = false)
    public String name;
    @Column(nullable = false)
    public String image;
    @Column(name = "image_id", nullable = false)
    public String imageId;
    @Column(nullable = false)
    public String command;
    @Column(name = "created_at", nullable = false)
    public Instant createdAt;
    /** Docker's state name: created, running, paused, restarting, removing, exited, dead. */
    @Column(nullable = false)
    public String state;
    @Column(nullable = false)
    public String status;
    @Column(name = "labels_json", nullable = false)
    public String labelsJson;
    /** Ports, Mounts, NetworkSettings and HostConfig as Docker renders them in the list, a JSON object. */
    @Column(name = "summary_json", nullable = false)
    public String summaryJson;
    /** The resolved {@link dev.berth.container.domain.ContainerSpec} as JSON, what inspect shows. */
    @Column(name = "spec_json", nullable = false)
    public String specJson;
    /** Creation time in RFC 3339 with nanoseconds, as inspect reports it. */
    @Column(nullable = false)
    public String created;
    /** The node it is scheduled on. */
    @Column(name = "node_id")
    public String nodeId;
    public int pid;
    @Column(name = "exit_code", nullable = false)
    public int exitCode;
    @Column(name = "oom_killed", nullable = false)
    public boolean oomKilled;
    /** RFC 3339 with nanoseconds; Go's zero time when never started. */
    @Column(name = "started_at", nullable = false)
    public String startedAt = dev.berth.container.domain.Status.NEVER;
    @Column(name = "finished_at", nullable = false)
    public String finishedAt = dev.berth.container.domain.Status.NEVER;
    @Column(name = "restart_count", nullable = false)
    public int restartCount;
    /** Why the last start failed, or empty. */
    @Column(nullable = false)
    public String error = "";
    /** The network of the last start as {@link dev.berth.container.domain.ContainerEvent.Network} JSON, or null. */
    @Column(name = "network_json")
    public String networkJson;
}
