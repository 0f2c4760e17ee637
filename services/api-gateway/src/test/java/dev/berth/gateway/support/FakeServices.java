package dev.berth.gateway.support;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Starts one {@link FakeService} per platform service before the gateway boots and points the gateway at them.
 */
public class FakeServices implements QuarkusTestResourceLifecycleManager {

    public static volatile FakeService image;
    public static volatile FakeService container;
    public static volatile FakeService network;
    public static volatile FakeService volume;
    /** A node agent's data plane, where container-service's lookups send data-plane requests. */
    public static volatile FakeService node;

    @Override
    public Map<String, String> start() {
        try {
            image = new FakeService("image-service");
            container = new FakeService("container-service");
            network = new FakeService("network-service");
            volume = new FakeService("volume-service");
            node = new FakeService("node-agent");
            int dead;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                dead = s.getLocalPort();
            }
            container.routeTo(node.port(), dead);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> config = new HashMap<>();
        config.put("berth.gateway.image-service.port", Integer.toString(image.port()));
        config.put("berth.gateway.container-service.port", Integer.toString(container.port()));
        config.put("berth.gateway.network-service.port", Integer.toString(network.port()));
        config.put("berth.gateway.volume-service.port", Integer.toString(volume.port()));
        return config;
    }

    @Override
    public void stop() {
        for (FakeService s : new FakeService[] {image, container, network, volume, node}) {
            if (s != null) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing a loopback listener cannot fail in a way a test could act on
                }
            }
        }
    }
}
