package dev.berth.volume.domain;

import java.time.Instant;
import java.util.Map;

/** What a client asks of a volume. */
public sealed interface VolumeCommand {

    /**
     * Create the volume, or return the existing one of that name (as Docker does).
     *
     * @param name       already chosen (a random 64-hex name for an anonymous volume)
     * @param mountpoint where the volume's data lives on a node ({@link VolumeDecider#mountpoint})
     * @param driver     null means {@code local}
     * @param labels  null means none
     * @param options driver options, null means none
     * @param now     the creation time to record
     */
    record CreateVolume(String name, String mountpoint, String driver, Map<String, String> labels, Map<String, String> options,
                        Instant now) implements VolumeCommand {
    }

    /** Remove the volume; with {@code force} a missing volume is not an error. */
    record RemoveVolume(String name, boolean force) implements VolumeCommand {
    }
}
