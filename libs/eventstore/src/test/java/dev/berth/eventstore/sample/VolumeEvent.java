package dev.berth.eventstore.sample;

import dev.berth.events.EventType;

import java.util.Map;

/** The sample aggregate's events. */
public sealed interface VolumeEvent permits VolumeEvent.Created, VolumeEvent.Labelled, VolumeEvent.Removed {

    @EventType("dev.berth.volume.created.v1")
    record Created(String name, Map<String, String> labels) implements VolumeEvent {
    }

    @EventType("dev.berth.volume.labelled.v1")
    record Labelled(String key, String value) implements VolumeEvent {
    }

    @EventType("dev.berth.volume.removed.v1")
    record Removed() implements VolumeEvent {
    }
}
