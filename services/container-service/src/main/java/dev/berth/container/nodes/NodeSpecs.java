package dev.berth.container.nodes;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.container.domain.ContainerSpec;
import dev.berth.container.domain.ContainerSpec.HostSpec;
import dev.berth.container.projection.ImageCatalog;
import dev.berth.events.DomainException;
import dev.berth.events.node.NodeContainerSpec;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A resolved {@link ContainerSpec} in the shape a node agent runs ({@link NodeContainerSpec}, docs/node/protocol.md). */
public final class NodeSpecs {

    private static final Pattern SIZE = Pattern.compile("(\\d+)([kmg]?)b?", Pattern.CASE_INSENSITIVE);

    private NodeSpecs() {
    }

    /**
     * @param layers the image's layers as image-service's events carry them, base first
     * @throws DomainException 400 for a log option that is not a size or a count
     */
    public static NodeContainerSpec of(ContainerSpec spec, JsonNode layers) {
        HostSpec h = spec.host();
        List<NodeContainerSpec.Layer> list = new ArrayList<>();
        for (JsonNode l : layers) {
            list.add(new NodeContainerSpec.Layer(l.path("diffId").asText(), l.path("digest").asText(),
                    l.path("mediaType").isTextual() ? l.path("mediaType").asText() : null, l.path("size").asLong()));
        }
        var r = h.resources();
        NodeContainerSpec.Resources resources = new NodeContainerSpec.Resources(r.memory(), r.memorySwap(),
                r.nanoCpus(), r.cpuQuota(), r.cpuPeriod(), r.cpuShares(), r.pidsLimit(), blankToNull(r.cpusetCpus()),
                blankToNull(r.cpusetMems()));
        List<NodeContainerSpec.Mount> mounts = new ArrayList<>();
        for (String bind : h.binds()) {
            String[] parts = bind.split(":");
            // named volumes are volume-service's (not wired to nodes yet); only host paths become binds
            if (parts.length >= 2 && parts[0].startsWith("/")) {
                boolean ro = parts.length > 2 && List.of(parts[2].split(",")).contains("ro");
                mounts.add(new NodeContainerSpec.Mount("bind", parts[0], parts[1], ro, null, true));
            }
        }
        h.tmpfs().forEach((target, options) -> mounts.add(new NodeContainerSpec.Mount("tmpfs", null, target, false,
                options == null || options.isEmpty() ? null : options)));
        List<NodeContainerSpec.Ulimit> ulimits = h.ulimits().stream()
                .map(u -> new NodeContainerSpec.Ulimit(u.name(), u.soft(), u.hard())).toList();
        return new NodeContainerSpec(new NodeContainerSpec.Image(repository(spec.image(), spec.imageId()),
                List.copyOf(list)), spec.entrypoint(), spec.cmd(), spec.env(), blankToNull(spec.workingDir()),
                blankToNull(spec.user()), null, spec.tty(), spec.openStdin(), spec.stdinOnce(),
                blankToNull(spec.hostname()), spec.labels(), resources, network(spec, h), mounts, h.capAdd(),
                h.capDrop(), h.privileged(), false, h.readonlyRootfs(), false, ulimits, blankToNull(spec.stopSignal()),
                null, log(h.logConfig()), new NodeContainerSpec.RestartPolicy(h.restartPolicy().name(),
                h.restartPolicy().maximumRetryCount()), h.autoRemove());
    }

    /**
     * The registry repository a node fetches the image's blobs from: the reference without tag or digest, in the
     * distribution form ({@code busybox:local} is {@code library/busybox}); an image named by id gets
     * {@code library/<first 12 hex>}. image-service serves a blob under any repository of the tenant's images.
     */
    public static String repository(String reference, String imageId) {
        String r = ImageCatalog.normalize(reference);
        if (r.matches("(sha256:)?[0-9a-f]{1,64}(:latest)?") && imageId != null && imageId.length() >= 19) {
            return "library/" + imageId.substring(7, 19);
        }
        int at = r.indexOf('@');
        if (at >= 0) {
            r = r.substring(0, at);
        }
        int slash = r.lastIndexOf('/');
        int colon = r.lastIndexOf(':');
        if (colon > slash) {
            r = r.substring(0, colon);
        }
        return r.contains("/") ? r : "library/" + r;
    }

    private static NodeContainerSpec.Network network(ContainerSpec spec, HostSpec h) {
        String mode = h.networkMode();
        String nodeMode = mode.equals("host") || mode.equals("none") ? mode : "bridge";
        List<NodeContainerSpec.PortBinding> ports = new ArrayList<>();
        Set<String> bound = new LinkedHashSet<>();
        h.portBindings().forEach((port, bindings) -> {
            bound.add(port);
            for (var b : bindings) {
                ports.add(binding(port, b.hostIp(), b.hostPort()));
            }
        });
        if (h.publishAllPorts()) {
            for (String port : spec.exposedPorts()) {
                if (!bound.contains(port)) {
                    ports.add(binding(port, "", ""));
                }
            }
        }
        return new NodeContainerSpec.Network(nodeMode, List.copyOf(ports));
    }

    private static NodeContainerSpec.PortBinding binding(String port, String hostIp, String hostPort) {
        String[] p = port.split("/", 2);
        String range = p[0].contains("-") ? p[0].substring(0, p[0].indexOf('-')) : p[0];
        int host = hostPort == null || hostPort.isEmpty() ? 0
                : Integer.parseInt(hostPort.contains("-") ? hostPort.substring(0, hostPort.indexOf('-')) : hostPort);
        return new NodeContainerSpec.PortBinding(hostIp == null || hostIp.isEmpty() ? null : hostIp, host,
                Integer.parseInt(range), p.length > 1 ? p[1] : "tcp");
    }

    private static NodeContainerSpec.LogConfig log(ContainerSpec.LogConfig log) {
        Map<String, String> c = log.config();
        String size = c.get("max-size");
        String files = c.get("max-file");
        if ((size == null || size.isEmpty()) && (files == null || files.isEmpty())) {
            return null;
        }
        long bytes = 0;
        if (size != null && !size.isEmpty()) {
            Matcher m = SIZE.matcher(size.trim());
            if (!m.matches()) {
                throw DomainException.badRequest("failed to parse max-size: invalid size: '" + size + "'");
            }
            long unit = switch (m.group(2).toLowerCase()) {
                case "k" -> 1024L;
                case "m" -> 1024L * 1024;
                case "g" -> 1024L * 1024 * 1024;
                default -> 1L;
            };
            bytes = Long.parseLong(m.group(1)) * unit;
        }
        int count = 1;
        if (files != null && !files.isEmpty()) {
            try {
                count = Integer.parseInt(files.trim());
            } catch (NumberFormatException e) {
                throw DomainException.badRequest("failed to parse max-file: invalid max-file: '" + files + "'");
            }
        }
        return new NodeContainerSpec.LogConfig(bytes, Math.max(1, count));
    }

    private static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
