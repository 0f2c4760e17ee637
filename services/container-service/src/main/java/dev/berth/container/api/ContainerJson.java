package dev.berth.container.api;

import dev.berth.container.domain.ContainerSpec;
import dev.berth.container.domain.ContainerSpec.HostSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A container spec in the shapes of Docker's inspect ({@code Config}, {@code HostConfig}). */
final class ContainerJson {

    // Docker's defaults that inspect fills in for unset values.
    private static final long DEFAULT_SHM_SIZE = 64L * 1024 * 1024;

    private ContainerJson() {
    }

    static Map<String, Object> config(String id, ContainerSpec spec) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("Hostname", spec.hostname().isEmpty() ? id.substring(0, 12) : spec.hostname());
        c.put("Domainname", spec.domainname());
        c.put("User", spec.user());
        c.put("AttachStdin", spec.attachStdin());
        c.put("AttachStdout", spec.attachStdout());
        c.put("AttachStderr", spec.attachStderr());
        if (!spec.exposedPorts().isEmpty()) {
            c.put("ExposedPorts", emptyObjects(spec.exposedPorts()));
        }
        c.put("Tty", spec.tty());
        c.put("OpenStdin", spec.openStdin());
        c.put("StdinOnce", spec.stdinOnce());
        c.put("Env", spec.env().isEmpty() ? null : spec.env());
        c.put("Cmd", spec.cmd().isEmpty() ? null : spec.cmd());
        c.put("Image", spec.image());
        c.put("Volumes", spec.volumes().isEmpty() ? null : emptyObjects(spec.volumes()));
        c.put("WorkingDir", spec.workingDir());
        c.put("Entrypoint", spec.entrypoint().isEmpty() ? null : spec.entrypoint());
        c.put("OnBuild", null);
        c.put("Labels", spec.labels());
        if (!spec.stopSignal().isEmpty()) {
            c.put("StopSignal", spec.stopSignal());
        }
        return c;
    }

    static Map<String, Object> hostConfig(HostSpec h) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("Binds", h.binds().isEmpty() ? null : h.binds());
        c.put("ContainerIDFile", "");
        c.put("LogConfig", Map.of("Type", h.logConfig().type(), "Config", h.logConfig().config()));
        c.put("NetworkMode", h.networkMode());
        Map<String, Object> ports = new LinkedHashMap<>();
        h.portBindings().forEach((port, bindings) -> {
            List<Map<String, String>> list = new ArrayList<>();
            bindings.forEach(b -> list.add(Map.of("HostIp", b.hostIp(), "HostPort", b.hostPort())));
            ports.put(port, list);
        });
        c.put("PortBindings", ports);
        c.put("RestartPolicy", Map.of("Name", h.restartPolicy().name(),
                "MaximumRetryCount", h.restartPolicy().maximumRetryCount()));
        c.put("AutoRemove", h.autoRemove());
        c.put("VolumeDriver", "");
        c.put("VolumesFrom", null);
        c.put("CapAdd", h.capAdd().isEmpty() ? null : h.capAdd());
        c.put("CapDrop", h.capDrop().isEmpty() ? null : h.capDrop());
        c.put("CgroupnsMode", "private");
        c.put("IpcMode", "private");
        c.put("Privileged", h.privileged());
        c.put("PublishAllPorts", h.publishAllPorts());
        c.put("ReadonlyRootfs", h.readonlyRootfs());
        if (!h.tmpfs().isEmpty()) {
            c.put("Tmpfs", h.tmpfs());
        }
        var r = h.resources();
        c.put("ShmSize", r.shmSize() == 0 ? DEFAULT_SHM_SIZE : r.shmSize());
        c.put("Runtime", "runc");
        c.put("CpuShares", r.cpuShares());
        c.put("Memory", r.memory());
        c.put("NanoCpus", r.nanoCpus());
        c.put("CpuPeriod", r.cpuPeriod());
        c.put("CpuQuota", r.cpuQuota());
        c.put("CpusetCpus", r.cpusetCpus());
        c.put("CpusetMems", r.cpusetMems());
        c.put("MemoryReservation", r.memoryReservation());
        c.put("MemorySwap", r.memorySwap());
        c.put("PidsLimit", r.pidsLimit() == 0 ? null : r.pidsLimit());
        List<Map<String, Object>> ulimits = new ArrayList<>();
        h.ulimits().forEach(u -> ulimits.add(Map.of("Name", u.name(), "Soft", u.soft(), "Hard", u.hard())));
        c.put("Ulimits", ulimits.isEmpty() ? null : ulimits);
        return c;
    }

    private static Map<String, Object> emptyObjects(List<String> keys) {
        Map<String, Object> out = new LinkedHashMap<>();
        keys.forEach(k -> out.put(k, Map.of()));
        return out;
    }
}
