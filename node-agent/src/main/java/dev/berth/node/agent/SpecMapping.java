package dev.berth.node.agent;

import dev.berth.events.node.NodeContainerSpec;
import dev.berth.node.cgroup.CgroupManager;
import dev.berth.node.network.NodeNetwork;
import dev.berth.node.runtime.ContainerSpec;

import java.util.ArrayList;
import java.util.List;

/** From the control plane's {@link NodeContainerSpec} to the runtime's {@link ContainerSpec}. */
final class SpecMapping {
    private static final long DEFAULT_CPU_PERIOD = 100_000;

    private SpecMapping() {
    }

    /**
     * @throws IllegalArgumentException for combinations Docker refuses (the caller answers 400)
     */
    static ContainerSpec toRuntime(NodeContainerSpec s, String chainId) {
        NodeContainerSpec.Resources r = s.resources();
        CgroupManager.Resources resources = CgroupManager.Resources.NONE;
        if (r != null) {
            long quota = r.cpuQuota();
            long period = r.cpuPeriod();
            if (r.nanoCpus() > 0) {
                if (r.cpuQuota() > 0 || r.cpuPeriod() > 0) {
                    throw new IllegalArgumentException("Conflicting options: Nano CPUs and CPU Period cannot both be set");
                }
                period = DEFAULT_CPU_PERIOD;
                quota = r.nanoCpus() * period / 1_000_000_000L;
            }
            resources = new CgroupManager.Resources(r.memory(), r.memorySwap(), quota, period, r.cpuShares(),
                    r.pidsLimit(), blankToNull(r.cpusetCpus()), blankToNull(r.cpusetMems()));
        }
        NodeNetwork.Spec network = null;
        if (s.network() != null && s.network().mode() != null && !s.network().mode().isEmpty()) {
            String mode = s.network().mode().equals("default") ? "bridge" : s.network().mode();
            List<NodeNetwork.PortBinding> ports = new ArrayList<>();
            if (s.network().ports() != null) {
                for (NodeContainerSpec.PortBinding p : s.network().ports()) {
                    ports.add(new NodeNetwork.PortBinding(p.hostIp(), p.hostPort(), p.containerPort(),
                            p.protocol() == null || p.protocol().isEmpty() ? "tcp" : p.protocol()));
                }
            }
            network = new NodeNetwork.Spec(mode, ports, s.hostname());
        }
        List<ContainerSpec.Mount> mounts = new ArrayList<>();
        if (s.mounts() != null) {
            for (NodeContainerSpec.Mount m : s.mounts()) {
                mounts.add(new ContainerSpec.Mount(m.type(), m.source(), m.target(), m.readOnly(), m.options()));
            }
        }
        List<ContainerSpec.Ulimit> ulimits = new ArrayList<>();
        if (s.ulimits() != null) {
            for (NodeContainerSpec.Ulimit u : s.ulimits()) {
                ulimits.add(new ContainerSpec.Ulimit(u.name(), u.soft(), u.hard()));
            }
        }
        long logMaxSize = s.log() == null ? 0 : s.log().maxSize();
        int logMaxFiles = s.log() == null ? 1 : s.log().maxFiles();
        return new ContainerSpec(chainId, null, s.entrypoint(), s.cmd(), s.env(), s.workingDir(), s.user(),
                s.groupAdd(), s.tty(), s.openStdin(), s.stdinOnce(), blankToNull(s.hostname()), s.labels(), resources,
                network, mounts, s.capAdd(), s.capDrop(), s.privileged(), s.noNewPrivileges(), s.readonlyRootfs(),
                s.init(), ulimits, blankToNull(s.stopSignal()), s.stopTimeout() == null ? -1 : s.stopTimeout(),
                logMaxSize, logMaxFiles);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
