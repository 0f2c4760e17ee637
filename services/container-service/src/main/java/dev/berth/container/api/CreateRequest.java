package dev.berth.container.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.container.domain.ContainerSpec;
import dev.berth.container.domain.ContainerSpec.HostSpec;
import dev.berth.container.domain.ContainerSpec.LogConfig;
import dev.berth.container.domain.ContainerSpec.PortBinding;
import dev.berth.container.domain.ContainerSpec.Resources;
import dev.berth.container.domain.ContainerSpec.RestartPolicy;
import dev.berth.container.domain.ContainerSpec.Ulimit;
import dev.berth.engineapi.GoBool;
import dev.berth.events.DomainException;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads a {@code POST /containers/create} body as Docker does (Go's encoding/json: field names in any case, unknown
 * fields ignored, explicit nulls as absent, booleans also as 1/0) and merges it with the image's config into a
 * {@link ContainerSpec}. Refusals carry Docker's status and wording.
 */
final class CreateRequest {

    private static final Set<String> RESTART_POLICIES = Set.of("", "no", "always", "on-failure", "unless-stopped");
    private static final Pattern PORT = Pattern.compile("(\\d+)(-\\d+)?(/(tcp|udp|sctp))?");
    private static final long MIN_MEMORY = 6 * 1024 * 1024;

    private CreateRequest() {
    }

    /** The image reference the body names (400 when absent). */
    static String image(JsonNode body) {
        String image = text(body, "Image");
        if (image.isEmpty()) {
            throw DomainException.badRequest("No image was specified");
        }
        return image;
    }

    /**
     * Merges body and image config the way Docker does: the client's Entrypoint drops the image's Cmd, Env is merged
     * key by key, Labels, ExposedPorts and Volumes are unions, scalar fields fall back to the image's.
     */
    static ContainerSpec spec(JsonNode body, String imageId, JsonNode image) {
        List<String> entrypoint = strings(body, "Entrypoint");
        List<String> cmd = strings(body, "Cmd");
        boolean entrypointGiven = field(body, "Entrypoint") != null && !field(body, "Entrypoint").isNull();
        if (!entrypointGiven) {
            entrypoint = strings(image, "Entrypoint");
            if (cmd.isEmpty()) {
                cmd = strings(image, "Cmd");
            }
        }
        if (entrypoint.isEmpty() && cmd.isEmpty()) {
            throw DomainException.badRequest("No command specified");
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (String e : strings(image, "Env")) {
            env.put(e.split("=", 2)[0], e);
        }
        for (String e : strings(body, "Env")) {
            env.put(e.split("=", 2)[0], e);
        }
        Map<String, String> labels = new TreeMap<>(stringMap(image, "Labels"));
        labels.putAll(stringMap(body, "Labels"));
        Set<String> exposed = new LinkedHashSet<>(keys(image, "ExposedPorts"));
        for (String port : keys(body, "ExposedPorts")) {
            exposed.add(validPort(port));
        }
        Set<String> volumes = new LinkedHashSet<>(keys(image, "Volumes"));
        volumes.addAll(keys(body, "Volumes"));
        HostSpec host = host(field(body, "HostConfig"));
        for (String port : host.portBindings().keySet()) {
            exposed.add(port);
        }
        return new ContainerSpec(text(body, "Image"), imageId, text(body, "Hostname"), text(body, "Domainname"),
                or(text(body, "User"), text(image, "User")), entrypoint, cmd, List.copyOf(env.values()),
                or(text(body, "WorkingDir"), text(image, "WorkingDir")), Map.copyOf(labels), List.copyOf(exposed),
                List.copyOf(volumes), or(text(body, "StopSignal"), text(image, "StopSignal")), bool(body, "Tty"),
                bool(body, "OpenStdin"), bool(body, "StdinOnce"), bool(body, "AttachStdin"),
                bool(body, "AttachStdout"), bool(body, "AttachStderr"), host);
    }

    private static HostSpec host(JsonNode h) {
        Map<String, List<PortBinding>> ports = new TreeMap<>();
        JsonNode bindings = field(h, "PortBindings");
        if (bindings != null && bindings.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = bindings.fields(); it.hasNext(); ) {
                var e = it.next();
                List<PortBinding> list = new ArrayList<>();
                for (JsonNode b : e.getValue()) {
                    String hostPort = text(b, "HostPort");
                    if (!hostPort.isEmpty() && !PORT.matcher(hostPort).matches()) {
                        throw DomainException.badRequest("invalid port specification: \"" + hostPort + "\"");
                    }
                    list.add(new PortBinding(text(b, "HostIp"), hostPort));
                }
                ports.put(validPort(e.getKey()), List.copyOf(list));
            }
        }
        JsonNode rp = field(h, "RestartPolicy");
        String policy = text(rp, "Name");
        int retries = (int) number(rp, "MaximumRetryCount");
        if (!RESTART_POLICIES.contains(policy)) {
            throw DomainException.badRequest("invalid restart policy: unknown policy '" + policy
                    + "'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
        }
        if (retries < 0) {
            throw DomainException.badRequest("invalid restart policy: maximum retry count cannot be negative");
        }
        if (retries > 0 && !"on-failure".equals(policy)) {
            throw DomainException.badRequest(
                    "invalid restart policy: maximum retry count can only be used with 'on-failure'");
        }
        policy = policy.isEmpty() ? "no" : policy;
        boolean autoRemove = bool(h, "AutoRemove");
        if (autoRemove && !"no".equals(policy)) {
            throw DomainException.badRequest("can't create 'AutoRemove' container with restart policy");
        }
        long memory = number(h, "Memory");
        if (memory < 0 || memory > 0 && memory < MIN_MEMORY) {
            throw DomainException.badRequest("Minimum memory limit allowed is 6MB");
        }
        long nanoCpus = number(h, "NanoCpus");
        if (nanoCpus < 0) {
            throw DomainException.badRequest("Range of CPUs is from 0.01 to "
                    + Runtime.getRuntime().availableProcessors() + ".00, as there are only "
                    + Runtime.getRuntime().availableProcessors() + " CPUs available");
        }
        Resources resources = new Resources(memory, number(h, "MemorySwap"), number(h, "MemoryReservation"),
                nanoCpus, number(h, "CpuShares"), number(h, "CpuPeriod"), number(h, "CpuQuota"),
                text(h, "CpusetCpus"), text(h, "CpusetMems"), number(h, "PidsLimit"), number(h, "ShmSize"));
        List<Ulimit> ulimits = new ArrayList<>();
        JsonNode u = field(h, "Ulimits");
        if (u != null) {
            for (JsonNode limit : u) {
                ulimits.add(new Ulimit(text(limit, "Name"), number(limit, "Soft"), number(limit, "Hard")));
            }
        }
        JsonNode log = field(h, "LogConfig");
        String networkMode = text(h, "NetworkMode");
        return new HostSpec(strings(h, "Binds"), Map.copyOf(ports), bool(h, "PublishAllPorts"),
                networkMode.isEmpty() ? "default" : networkMode, new RestartPolicy(policy, retries), resources,
                autoRemove, strings(h, "CapAdd"), strings(h, "CapDrop"), bool(h, "Privileged"),
                bool(h, "ReadonlyRootfs"), stringMap(h, "Tmpfs"), List.copyOf(ulimits),
                new LogConfig(or(text(log, "Type"), "json-file"), stringMap(log, "Config")));
    }

    private static String validPort(String port) {
        if (!PORT.matcher(port).matches()) {
            throw DomainException.badRequest("invalid port specification: \"" + port + "\"");
        }
        return port.contains("/") ? port : port + "/tcp";
    }

    private static String or(String value, String fallback) {
        return value.isEmpty() ? fallback : value;
    }

    /** A field by Go's rule: exact name first, then any case. Null for absent. */
    static JsonNode field(JsonNode node, String name) {
        if (node == null || !node.isObject()) {
            return null;
        }
        JsonNode exact = node.get(name);
        if (exact != null) {
            return exact;
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String candidate = it.next();
            if (candidate.equalsIgnoreCase(name)) {
                return node.get(candidate);
            }
        }
        return null;
    }

    static String text(JsonNode node, String name) {
        JsonNode v = field(node, name);
        if (v == null || v.isNull()) {
            return "";
        }
        if (!v.isValueNode()) {
            throw typeError(name, v, "string");
        }
        return v.asText();
    }

    private static boolean bool(JsonNode node, String name) {
        JsonNode v = field(node, name);
        if (v == null || v.isNull()) {
            return false;
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isIntegralNumber()) {
            return v.asLong() != 0;
        }
        if (v.isTextual()) {
            return GoBool.parse(name, v.asText(), false);
        }
        throw typeError(name, v, "bool");
    }

    private static long number(JsonNode node, String name) {
        JsonNode v = field(node, name);
        if (v == null || v.isNull()) {
            return 0;
        }
        if (!v.isIntegralNumber()) {
            throw typeError(name, v, "int64");
        }
        return v.asLong();
    }

    /** A list of strings; Docker also accepts a single string for Cmd, Entrypoint and Env-like fields. */
    private static List<String> strings(JsonNode node, String name) {
        JsonNode v = field(node, name);
        if (v == null || v.isNull()) {
            return List.of();
        }
        if (v.isTextual()) {
            return List.of(v.asText());
        }
        if (!v.isArray()) {
            throw typeError(name, v, "[]string");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode item : v) {
            out.add(item.asText());
        }
        return List.copyOf(out);
    }

    private static Map<String, String> stringMap(JsonNode node, String name) {
        JsonNode v = field(node, name);
        if (v == null || v.isNull()) {
            return Map.of();
        }
        if (!v.isObject()) {
            throw typeError(name, v, "map[string]string");
        }
        Map<String, String> out = new TreeMap<>();
        v.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().isNull() ? "" : e.getValue().asText()));
        return Map.copyOf(out);
    }

    private static List<String> keys(JsonNode node, String name) {
        JsonNode v = field(node, name);
        if (v == null || !v.isObject()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        v.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static DomainException typeError(String name, JsonNode value, String type) {
        return DomainException.badRequest("json: cannot unmarshal " + value.getNodeType().name().toLowerCase()
                + " into Go struct field of type " + type + " (" + name + ")");
    }
}
