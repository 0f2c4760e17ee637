package dev.berth.events.node;

import java.util.List;
import java.util.Map;

/**
 * A container as the control plane resolved it for a node (image config merged with the create request), the data
 * of {@link NodeCommand.CreateContainer}. Lists and maps may be null (empty); numbers 0 mean "not set", as in the
 * Engine API.
 *
 * @param image          the image's repository and its layers, base layer first
 * @param entrypoint     Config.Entrypoint
 * @param cmd            Config.Cmd; entrypoint + cmd is the process and must not be empty
 * @param env            "KEY=value"
 * @param workingDir     absolute, or null/"" for "/"
 * @param user           "", "uid", "name", "uid:gid", "name:group"
 * @param groupAdd       HostConfig.GroupAdd
 * @param tty            Config.Tty
 * @param openStdin      Config.OpenStdin
 * @param stdinOnce      Config.StdinOnce
 * @param hostname       null means the first 12 characters of the container id
 * @param labels         Config.Labels
 * @param resources      cgroup limits
 * @param network        network mode and published ports (null: "none")
 * @param mounts         binds and tmpfs
 * @param capAdd         HostConfig.CapAdd
 * @param capDrop        HostConfig.CapDrop
 * @param privileged     HostConfig.Privileged
 * @param noNewPrivileges SecurityOpt no-new-privileges
 * @param readonlyRootfs HostConfig.ReadonlyRootfs
 * @param init           HostConfig.Init
 * @param ulimits        HostConfig.Ulimits
 * @param stopSignal     Config.StopSignal (null: SIGTERM)
 * @param stopTimeout    Config.StopTimeout in seconds (null: 10)
 * @param log            json-file options (null: unlimited, one file)
 * @param restartPolicy  HostConfig.RestartPolicy (null: "no")
 * @param autoRemove     HostConfig.AutoRemove ({@code --rm}): the node removes the container after it exits
 */
public record NodeContainerSpec(Image image, List<String> entrypoint, List<String> cmd, List<String> env,
                                String workingDir, String user, List<String> groupAdd, boolean tty, boolean openStdin,
                                boolean stdinOnce, String hostname, Map<String, String> labels, Resources resources,
                                Network network, List<Mount> mounts, List<String> capAdd, List<String> capDrop,
                                boolean privileged, boolean noNewPrivileges, boolean readonlyRootfs, boolean init,
                                List<Ulimit> ulimits, String stopSignal, Integer stopTimeout, LogConfig log,
                                RestartPolicy restartPolicy, boolean autoRemove) {

    /**
     * An image as the node needs it: where to fetch blobs ({@code GET /v2/{repository}/blobs/{digest}} of
     * image-service's registry API) and its layers in order.
     *
     * @param repository the registry repository name, e.g. "library/busybox"
     * @param layers     base layer first
     */
    public record Image(String repository, List<Layer> layers) {
    }

    /**
     * One layer.
     *
     * @param diffId    sha256 of the uncompressed tar ("sha256:...")
     * @param digest    sha256 of the blob as the registry serves it
     * @param mediaType the blob's media type (gzip or plain tar)
     * @param size      blob size in bytes (0 if unknown)
     */
    public record Layer(String diffId, String digest, String mediaType, long size) {
    }

    /** cgroup limits as the Engine API names them; 0 means not set, -1 unlimited where Docker allows it. */
    public record Resources(long memory, long memorySwap, long nanoCpus, long cpuQuota, long cpuPeriod, long cpuShares,
                            long pidsLimit, String cpusetCpus, String cpusetMems) {
    }

    /**
     * @param mode  "bridge" (also "default"), "host" or "none"
     * @param ports published ports
     */
    public record Network(String mode, List<PortBinding> ports) {
    }

    /** {@code -p [hostIp:]hostPort:containerPort[/protocol]}; hostPort 0 means a free port. */
    public record PortBinding(String hostIp, int hostPort, int containerPort, String protocol) {
    }

    /**
     * @param type    "bind" or "tmpfs"
     * @param source  host path for a bind
     * @param target  absolute path in the container
     * @param options tmpfs options, e.g. "size=64m"
     * @param createSource for a bind: make a missing source directory first, as Docker does for {@code -v}
     *                     ({@code Binds}); false fails on a missing source, as {@code --mount} does
     */
    public record Mount(String type, String source, String target, boolean readOnly, String options,
                        boolean createSource) {

        public Mount(String type, String source, String target, boolean readOnly, String options) {
            this(type, source, target, readOnly, options, false);
        }
    }

    public record Ulimit(String name, long soft, long hard) {
    }

    /** json-file log options: max-size in bytes (0 unlimited) and max-file (at least 1). */
    public record LogConfig(long maxSize, int maxFiles) {
    }

    /**
     * @param name              "no" (or ""), "always", "unless-stopped", "on-failure"
     * @param maximumRetryCount for on-failure: 0 means no limit
     */
    public record RestartPolicy(String name, int maximumRetryCount) {
    }
}
