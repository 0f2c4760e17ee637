package dev.berth.eventstore.sample;

import java.util.Map;

/** The sample aggregate's commands. */
public sealed interface VolumeCommand {
    record Create(String name, Map<String, String> labels) implements VolumeCommand {
    }

    record Label(String key, String value) implements VolumeCommand {
    }

    record Remove() implements VolumeCommand {
    }
}
