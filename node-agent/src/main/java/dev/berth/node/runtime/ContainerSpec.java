package dev.berth.node.runtime;

import dev.berth.node.cgroup.CgroupManager;
import dev.berth.node.network.NodeNetwork;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything the node needs to run one container, already resolved by the control plane (image config merged with
 * the create request). Either {@code chainId} (an unpacked layer chain of the {@link dev.berth.node.snapshot.Snapshotter})
 * or {@code rootfs} (a directory used as it is) gives the root filesystem.
 *
 * @param chainId         layer chain id of the image, or null
 * @param rootfs          a ready root directory instead of an image, or null
 * @param entrypoint      Config.Entrypoint (may be empty)
 * @param cmd             Config.Cmd (may be empty); the process is entrypoint + cmd, which must not be empty
 * @param env             "KEY=value" entries
 * @param workingDir      absolute path, created if missing; null or "" means "/"
 * @param user            "", "uid", "name", "uid:gid", "name:group"; names come from the image's /etc/passwd, /etc/group
 * @param groupAdd        extra groups (names or numbers), HostConfig.GroupAdd
 * @param hostname        null means the first 12 characters of the id
 * @param resources       cgroup limits
 * @param network         network mode and published ports; null means "none"
 * @param mounts          bind and tmpfs mounts
 * @param ulimits         rlimits (within the host's hard limits)
 * @param stopSignal      e.g. "SIGTERM", "TERM", "15"; null means SIGTERM
 * @param stopTimeoutSecs seconds stop waits before SIGKILL; negative means the default 10
 * @param logMaxSize      json-file max-size in bytes; 0 means unlimited
 * @param logMaxFiles     json-file max-file (at least 1)
 */
public record ContainerSpec(String chainId, Path rootfs, List<String> entrypoint, List<String> cmd, List<String> env,
                            String workingDir, String user, List<String> groupAdd, boolean tty, boolean openStdin,
                            boolean stdinOnce, String hostname, Map<String, String> labels,
                            CgroupManager.Resources resources, NodeNetwork.Spec network, List<Mount> mounts,
                            List<String> capAdd, List<String> capDrop, boolean privileged, boolean noNewPrivileges,
                            boolean readonlyRootfs, boolean init, List<Ulimit> ulimits, String stopSignal,
                            int stopTimeoutSecs, long logMaxSize, int logMaxFiles) {

    public ContainerSpec {
        entrypoint = entrypoint == null ? List.of() : List.copyOf(entrypoint);
        cmd = cmd == null ? List.of() : List.copyOf(cmd);
        env = env == null ? List.of() : List.copyOf(env);
        groupAdd = groupAdd == null ? List.of() : List.copyOf(groupAdd);
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        resources = resources == null ? CgroupManager.Resources.NONE : resources;
        mounts = mounts == null ? List.of() : List.copyOf(mounts);
        capAdd = capAdd == null ? List.of() : List.copyOf(capAdd);
        capDrop = capDrop == null ? List.of() : List.copyOf(capDrop);
        ulimits = ulimits == null ? List.of() : List.copyOf(ulimits);
        logMaxFiles = Math.max(1, logMaxFiles);
    }

    /** The process to run: entrypoint followed by cmd. */
    public List<String> command() {
        List<String> all = new ArrayList<>(entrypoint);
        all.addAll(cmd);
        return all;
    }

    /**
     * A bind mount ({@code -v /host:/ctr[:ro]}) or a tmpfs ({@code --tmpfs /ctr:opts}).
     *
     * @param type     "bind" or "tmpfs"
     * @param source   host path for a bind; ignored for tmpfs
     * @param target   absolute path in the container
     * @param readOnly for a bind
     * @param options  tmpfs options, e.g. "size=64m,mode=1777" (Docker adds noexec,nosuid,nodev)
     */
    public record Mount(String type, String source, String target, boolean readOnly, String options) {
        public static Mount bind(String source, String target, boolean readOnly) {
            return new Mount("bind", source, target, readOnly, null);
        }

        public static Mount tmpfs(String target, String options) {
            return new Mount("tmpfs", null, target, false, options);
        }
    }

    /** An rlimit as the Engine API names it: {@code {"Name":"nofile","Soft":1024,"Hard":2048}}. */
    public record Ulimit(String name, long soft, long hard) {
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builds a spec with Docker's defaults for everything not set. */
    public static final class Builder {
        private String chainId;
        private Path rootfs;
        private List<String> entrypoint = List.of(), cmd = List.of(), env = List.of(), groupAdd = List.of();
        private String workingDir, user, hostname, stopSignal;
        private boolean tty, openStdin, stdinOnce, privileged, noNewPrivileges, readonlyRootfs, init;
        private Map<String, String> labels = new LinkedHashMap<>();
        private CgroupManager.Resources resources = CgroupManager.Resources.NONE;
        private NodeNetwork.Spec network;
        private final List<Mount> mounts = new ArrayList<>();
        private List<String> capAdd = List.of(), capDrop = List.of();
        private final List<Ulimit> ulimits = new ArrayList<>();
        private int stopTimeoutSecs = -1;
        private long logMaxSize;
        private int logMaxFiles = 1;

        public Builder image(String chainId) { this.chainId = chainId; return this; }
        public Builder rootfs(Path rootfs) { this.rootfs = rootfs; return this; }
        public Builder entrypoint(String... args) { this.entrypoint = List.of(args); return this; }
        public Builder cmd(String... args) { this.cmd = List.of(args); return this; }
        public Builder env(String... env) { this.env = List.of(env); return this; }
        public Builder workingDir(String dir) { this.workingDir = dir; return this; }
        public Builder user(String user) { this.user = user; return this; }
        public Builder groupAdd(String... groups) { this.groupAdd = List.of(groups); return this; }
        public Builder tty(boolean tty) { this.tty = tty; return this; }
        public Builder openStdin(boolean open, boolean once) { this.openStdin = open; this.stdinOnce = once; return this; }
        public Builder hostname(String hostname) { this.hostname = hostname; return this; }
        public Builder label(String k, String v) { labels.put(k, v); return this; }
        public Builder resources(CgroupManager.Resources r) { this.resources = r; return this; }
        public Builder network(NodeNetwork.Spec n) { this.network = n; return this; }
        public Builder mount(Mount m) { mounts.add(m); return this; }
        public Builder capAdd(String... caps) { this.capAdd = List.of(caps); return this; }
        public Builder capDrop(String... caps) { this.capDrop = List.of(caps); return this; }
        public Builder privileged(boolean p) { this.privileged = p; return this; }
        public Builder noNewPrivileges(boolean n) { this.noNewPrivileges = n; return this; }
        public Builder readonlyRootfs(boolean r) { this.readonlyRootfs = r; return this; }
        public Builder init(boolean i) { this.init = i; return this; }
        public Builder ulimit(String name, long soft, long hard) { ulimits.add(new Ulimit(name, soft, hard)); return this; }
        public Builder stopSignal(String s) { this.stopSignal = s; return this; }
        public Builder stopTimeout(int secs) { this.stopTimeoutSecs = secs; return this; }
        public Builder log(long maxSize, int maxFiles) { this.logMaxSize = maxSize; this.logMaxFiles = maxFiles; return this; }

        public ContainerSpec build() {
            return new ContainerSpec(chainId, rootfs, entrypoint, cmd, env, workingDir, user, groupAdd, tty, openStdin,
                    stdinOnce, hostname, labels, resources, network, mounts, capAdd, capDrop, privileged,
                    noNewPrivileges, readonlyRootfs, init, ulimits, stopSignal, stopTimeoutSecs, logMaxSize, logMaxFiles);
        }
    }
}
