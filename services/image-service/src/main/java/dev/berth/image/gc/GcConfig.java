package dev.berth.image.gc;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;

/** Blob garbage collection ({@code berth.images.gc.*}). */
@ConfigMapping(prefix = "berth.images.gc")
public interface GcConfig {

    /** How often the collector sweeps the whole store; it also sweeps once at start and after every removal. */
    @WithDefault("10m")
    Duration interval();

    /**
     * How long a lease protects its blobs without renewal. A live holder renews its leases every third of this, so
     * only the leases of a holder that crashed (or of a process that stopped) lapse.
     */
    @WithDefault("15m")
    Duration leaseTtl();

    /** How old an unheld file under {@code tmp} must be before a sweep removes it. */
    @WithDefault("1h")
    Duration tmpGrace();

    /**
     * How long a blob uploaded through the registry API stays when no manifest claims it (and a deleted manifest's
     * blobs, which become such uploads again). A registry keeps them until its garbage collection runs; Berth's
     * sweeps drop the uploads older than this, so clients have this long between a blob push and its manifest.
     */
    @WithDefault("24h")
    Duration uploadTtl();

    /** Whether the periodic and start-up sweeps run (removals still collect what they free). */
    @WithDefault("true")
    boolean periodic();
}
