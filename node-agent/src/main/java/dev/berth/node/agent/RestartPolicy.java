package dev.berth.node.agent;

import java.time.Duration;
import java.time.Instant;

/**
 * Docker's restart decisions (moby restartmanager): {@code no} never; {@code always} and {@code unless-stopped}
 * unless stopped by a command; {@code on-failure[:N]} after a non-zero exit while fewer than N restarts happened
 * (N = 0: no limit). The delay starts at 100 ms and doubles with each restart, up to a minute, and starts over after
 * a run of at least 10 s.
 */
public final class RestartPolicy {
    static final Duration FIRST_DELAY = Duration.ofMillis(100);
    static final Duration MAX_DELAY = Duration.ofMinutes(1);
    static final Duration RESET_AFTER = Duration.ofSeconds(10);

    private RestartPolicy() {
    }

    /**
     * Whether a container that just exited is restarted.
     *
     * @throws IllegalArgumentException for an unknown policy name
     */
    public static boolean shouldRestart(String policy, int maximumRetryCount, int restartCount, int exitCode,
                                        boolean manuallyStopped) {
        if (manuallyStopped) {
            return false;
        }
        return switch (policy) {
            case "no", "" -> false;
            case "always", "unless-stopped" -> true;
            case "on-failure" -> exitCode != 0 && (maximumRetryCount <= 0 || restartCount < maximumRetryCount);
            default -> throw new IllegalArgumentException("invalid restart policy \"" + policy + "\"");
        };
    }

    /** Checks a policy name as the Engine API does on create (400 otherwise). */
    public static void validate(String policy, int maximumRetryCount) {
        switch (policy == null ? "" : policy) {
            case "", "no", "always", "unless-stopped" -> {
                if (maximumRetryCount > 0) {
                    throw new IllegalArgumentException("maximum retry count cannot be used with restart policy '"
                            + policy + "'");
                }
            }
            case "on-failure" -> {
                if (maximumRetryCount < 0) {
                    throw new IllegalArgumentException("maximum retry count cannot be negative");
                }
            }
            default -> throw new IllegalArgumentException("invalid restart policy '" + policy + "'");
        }
    }

    /** The delay before the next restart, given the previous one (null for none) and how long the run lasted. */
    public static Duration nextDelay(Duration previous, Instant startedAt, Instant finishedAt) {
        boolean longRun = startedAt != null && finishedAt != null
                && Duration.between(startedAt, finishedAt).compareTo(RESET_AFTER) >= 0;
        if (previous == null || longRun) {
            return FIRST_DELAY;
        }
        Duration d = previous.multipliedBy(2);
        return d.compareTo(MAX_DELAY) > 0 ? MAX_DELAY : d;
    }
}
