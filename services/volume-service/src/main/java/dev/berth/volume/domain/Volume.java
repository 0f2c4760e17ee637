package dev.berth.volume.domain;

import java.time.Instant;
import java.util.Map;

/**
 * The state of one volume aggregate. {@code exists} is false before creation and after removal (the same name may be
 * created again later, continuing the same aggregate).
 */
public record Volume(boolean exists, String name, String driver, String mountpoint, Map<String, String> labels,
                     Map<String, String> options, Instant createdAt) {

    public static final Volume NONE = new Volume(false, null, null, null, Map.of(), null, null);
}
