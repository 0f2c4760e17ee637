package dev.berth.volume.domain;

import dev.berth.events.EventType;

import java.time.Instant;
import java.util.Map;

/** The facts of a volume's life. Their JSON form is a public contract (docs/events.md). */
public sealed interface VolumeEvent {

    /**
     * A volume came into existence.
     *
     * @param name       the volume's name, unique within its tenant
     * @param driver     always {@code local} for now
     * @param mountpoint where the node agent puts its data
     * @param labels     user labels (never null)
     * @param options    driver options, null when none were given (Docker reports them as given)
     * @param createdAt  creation time, second precision as Docker reports it
     */
    @EventType("dev.berth.volume.created.v1")
    record VolumeCreated(String name, String driver, String mountpoint, Map<String, String> labels,
                         Map<String, String> options, Instant createdAt) implements VolumeEvent {
    }

    /** A volume and its data are gone. */
    @EventType("dev.berth.volume.removed.v1")
    record VolumeRemoved(String name) implements VolumeEvent {
    }
}
