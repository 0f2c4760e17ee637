package dev.berth.container.node;

import org.eclipse.microprofile.config.ConfigProvider;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What the tests need of the node {@link NodeTestResource} runs: the test image's layer and its leftovers. */
public final class NodeFixture {

    private NodeFixture() {
    }

    private static String config(String name) {
        return ConfigProvider.getConfig().getValue(name, String.class);
    }

    /** The {@code layers} of an image event whose only layer is the busybox layer the registry serves. */
    public static String layersJson() {
        return "[{\"digest\":\"" + config("berth.test.layer.digest") + "\",\"diffId\":\""
                + config("berth.test.layer.diffid") + "\",\"size\":" + config("berth.test.layer.size")
                + ",\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"unpackedSize\":0}]";
    }

    public static String nodeId() {
        return config("berth.test.node.id");
    }

    /** Nothing of any container is left on the node: no directory, record or mount. */
    public static void assertNodeEmpty() {
        Path state = Path.of(config("berth.test.node.state-root"));
        Path run = Path.of(config("berth.test.node.run-root"));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (Path dir : List.of(state.resolve("containers"), run.resolve("containers"), run.resolve("tasks"),
                    run.resolve("netns"), state.resolve("agent/containers"))) {
                assertThat(entries(dir)).as("left on the node in " + dir).isEmpty();
            }
            assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(run + "/containers/");
        });
    }

    private static List<String> entries(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }
}
