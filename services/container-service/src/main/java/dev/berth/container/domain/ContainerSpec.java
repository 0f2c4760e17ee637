package dev.berth.container.domain;

import java.util.List;
import java.util.Map;

/**
 * A container's resolved specification: the image's config merged with the client's, and the host settings a node
 * needs to run it. Lists and maps are never null (empty when unset); strings are empty when unset.
 *
 * @param image        the image reference as the client gave it ({@code busybox:local})
 * @param imageId      the image id it resolved to ({@code sha256:...})
 * @param entrypoint   Docker's Entrypoint after the merge
 * @param cmd          Docker's Cmd after the merge (the image's Cmd is dropped when the client sets an Entrypoint)
 * @param env          image Env overridden key by key by the client's
 * @param exposedPorts {@code 80/tcp} keys of the image and the client
 * @param volumes      anonymous volume paths of the image and the client
 */
public record ContainerSpec(String image, String imageId, String hostname, String domainname, String user,
                            List<String> entrypoint, List<String> cmd, List<String> env, String workingDir,
                            Map<String, String> labels, List<String> exposedPorts, List<String> volumes,
                            String stopSignal, boolean tty, boolean openStdin, boolean stdinOnce,
                            boolean attachStdin, boolean attachStdout, boolean attachStderr, HostSpec host) {

    /** The program a node starts: Entrypoint then Cmd. */
    public List<String> commandLine() {
        var all = new java.util.ArrayList<String>(entrypoint);
        all.addAll(cmd);
        return all;
    }

    /** The host side of a container (Docker's HostConfig subset Berth honours). */
    public record HostSpec(List<String> binds, Map<String, List<PortBinding>> portBindings, boolean publishAllPorts,
                           String networkMode, RestartPolicy restartPolicy, Resources resources, boolean autoRemove,
                           List<String> capAdd, List<String> capDrop, boolean privileged, boolean readonlyRootfs,
                           Map<String, String> tmpfs, List<Ulimit> ulimits, LogConfig logConfig) {
    }

    /** One published port; an empty {@code hostPort} means a random one. */
    public record PortBinding(String hostIp, String hostPort) {
    }

    /** {@code no}, {@code always}, {@code on-failure} (with a retry count) or {@code unless-stopped}. */
    public record RestartPolicy(String name, int maximumRetryCount) {
    }

    /** Limits; 0 (or -1 for swappiness-like values) means unset, as in Docker. */
    public record Resources(long memory, long memorySwap, long memoryReservation, long nanoCpus, long cpuShares,
                            long cpuPeriod, long cpuQuota, String cpusetCpus, String cpusetMems, long pidsLimit,
                            long shmSize) {
    }

    public record Ulimit(String name, long soft, long hard) {
    }

    /** {@code json-file} unless the client chose another driver. */
    public record LogConfig(String type, Map<String, String> config) {
    }
}
