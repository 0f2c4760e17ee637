package dev.berth.node.agent;

import dev.berth.events.node.NodeContainerSpec;

import java.time.Instant;

/**
 * What the agent keeps about a container beside the runtime's own state ({@code <stateRoot>/agent/containers/<id>.json}):
 * the spec as the control plane sent it (restart policy, auto-remove, TTY, image), the restart bookkeeping, and the
 * last exit it reported, so an exit is reported exactly once even across agent restarts.
 *
 * @param chainId            the image's layer chain on this node
 * @param restartCount       restarts by the policy since the last start by a command
 * @param manuallyStopped    stopped or killed by a command: the policy does not restart it
 * @param reportedFinishedAt finishedAt of the last exit reported (null: none yet)
 */
public record ContainerRecord(String id, NodeContainerSpec spec, String chainId, Instant createdAt, int restartCount,
                              boolean manuallyStopped, Instant reportedFinishedAt) {

    public ContainerRecord withRestartCount(int n) {
        return new ContainerRecord(id, spec, chainId, createdAt, n, manuallyStopped, reportedFinishedAt);
    }

    public ContainerRecord withManuallyStopped(boolean m) {
        return new ContainerRecord(id, spec, chainId, createdAt, restartCount, m, reportedFinishedAt);
    }

    public ContainerRecord withReportedFinishedAt(Instant t) {
        return new ContainerRecord(id, spec, chainId, createdAt, restartCount, manuallyStopped, t);
    }

    /** Whether the container's process has a TTY (its streams are raw, not multiplexed). */
    public boolean tty() {
        return spec != null && spec.tty();
    }

    public boolean autoRemove() {
        return spec != null && spec.autoRemove();
    }

    /** The policy's name, "no" when none is set. */
    public String restartPolicy() {
        return spec == null || spec.restartPolicy() == null || spec.restartPolicy().name() == null
                || spec.restartPolicy().name().isEmpty() ? "no" : spec.restartPolicy().name();
    }

    public int maximumRetryCount() {
        return spec == null || spec.restartPolicy() == null ? 0 : spec.restartPolicy().maximumRetryCount();
    }
}
