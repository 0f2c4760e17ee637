package dev.berth.network.api;

import dev.berth.network.domain.NetworkEvent.IpamConfig;
import dev.berth.network.domain.NetworkEvent.NetworkCreated;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A network as the Docker Engine API shows it ({@code GET /networks}, {@code GET /networks/{id}}). */
public final class NetworkJson {

    private NetworkJson() {
    }

    public static Map<String, Object> of(NetworkCreated n) {
        Map<String, Object> ipam = new LinkedHashMap<>();
        ipam.put("Driver", n.ipamDriver());
        ipam.put("Options", n.ipamOptions());
        List<Map<String, Object>> config = new ArrayList<>();
        for (IpamConfig block : n.ipam()) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("Subnet", block.subnet());
            if (block.ipRange() != null) {
                c.put("IPRange", block.ipRange());
            }
            c.put("Gateway", block.gateway());
            config.add(c);
        }
        ipam.put("Config", config);

        Map<String, Object> out = new LinkedHashMap<>();
        out.put("Name", n.name());
        out.put("Id", n.id());
        out.put("Created", n.created().toString());
        out.put("Scope", "local");
        out.put("Driver", n.driver());
        out.put("EnableIPv6", n.enableIPv6());
        out.put("IPAM", ipam);
        out.put("Internal", n.internal());
        out.put("Attachable", n.attachable());
        out.put("Ingress", n.ingress());
        out.put("ConfigFrom", Map.of("Network", ""));
        out.put("ConfigOnly", false);
        // Endpoints arrive with container connect; until then no network has any.
        out.put("Containers", Map.of());
        out.put("Options", n.options());
        out.put("Labels", n.labels());
        return out;
    }
}
