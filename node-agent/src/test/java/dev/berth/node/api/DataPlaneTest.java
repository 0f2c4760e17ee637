package dev.berth.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.events.Json;
import dev.berth.events.node.NodeCommand;
import dev.berth.events.node.NodeContainerSpec;
import dev.berth.events.node.NodeObservation;
import dev.berth.node.agent.AgentLifecycle;
import dev.berth.node.agent.AgentTestKit;
import dev.berth.node.agent.AgentTestResource;
import dev.berth.testing.BerthTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The data plane over real sockets, the way the docker CLI (101 upgrade, half-close) and docker-java (200,
 * close-delimited) drive it, against real containers started by commands on Kafka.
 */
@QuarkusTest
@QuarkusTestResource(BerthTestResource.class)
@QuarkusTestResource(AgentTestResource.class)
class DataPlaneTest {
    private static final Map<String, String> UPGRADE = Map.of("Connection", "Upgrade", "Upgrade", "tcp");

    @Inject
    AgentLifecycle lifecycle;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;
    @ConfigProperty(name = "berth.test.repository")
    String repository;
    @ConfigProperty(name = "berth.test.layer.digest")
    String digest;
    @ConfigProperty(name = "berth.test.layer.diffid")
    String diffId;

    private AgentTestKit.CommandBus commands;
    private AgentTestKit.Observations observations;
    private final List<String> created = new ArrayList<>();

    @BeforeEach
    void connect() throws Exception {
        AgentTestKit.createTopics(bootstrap);
        commands = new AgentTestKit.CommandBus(bootstrap);
        observations = new AgentTestKit.Observations(bootstrap);
        observations.await(node(), NodeObservation.NodeHeartbeat.class);
    }

    @AfterEach
    void removeContainers() throws Exception {
        try {
            for (String id : created) {
                UUID rm = commands.send(new NodeCommand.RemoveContainer(node(), id, true));
                assertThat(observations.await(id, NodeObservation.ContainerRemoved.class).causation()).isEqualTo(rm);
                AgentTestKit.assertNothingLeftOf(lifecycle.agent(), id);
            }
        } finally {
            commands.close();
            observations.close();
        }
    }

    private String node() {
        return lifecycle.agent().settings().nodeId();
    }

    private int port() {
        return lifecycle.agent().dataPlanePort();
    }

    private NodeContainerSpec spec(String network, boolean openStdin, String... cmd) {
        return AgentTestKit.busybox(repository, new NodeContainerSpec.Layer(diffId, digest, null, 0), List.of(cmd),
                network, false, openStdin, null, false);
    }

    private String create(NodeContainerSpec spec) {
        String id = AgentTestKit.newId();
        created.add(id);
        UUID c = commands.send(new NodeCommand.CreateContainer(node(), id, spec));
        assertThat(observations.answer(id, c).payload()).isInstanceOf(NodeObservation.ContainerCreated.class);
        return id;
    }

    private NodeObservation.ContainerStarted start(String id) {
        UUID s = commands.send(new NodeCommand.StartContainer(node(), id));
        return (NodeObservation.ContainerStarted) observations.answer(id, s).payload();
    }

    @Test
    void logsAreStdcopyFramedWithTimestampsAndTail() throws Exception {
        String id = create(spec("none", false, "sh", "-c", "echo one; echo two >&2; echo three"));
        start(id);
        observations.await(id, NodeObservation.ContainerExited.class);
        try (RawHttp http = new RawHttp(port())) {
            RawHttp.Response r = http.request("GET", "/v1.44/containers/" + id + "/logs?stdout=1&stderr=1", Map.of(), null);
            assertThat(r.status()).isEqualTo(200);
            List<RawHttp.Frame> all = RawHttp.frames(r.body());
            // order holds within a stream; stdout and stderr are separate pipes, as in Docker
            assertThat(all.stream().filter(f -> f.stream() == 1)).containsExactly(new RawHttp.Frame(1, "one\n"),
                    new RawHttp.Frame(1, "three\n"));
            assertThat(all.stream().filter(f -> f.stream() == 2)).containsExactly(new RawHttp.Frame(2, "two\n"));
            assertThat(all).hasSize(3);
            // same connection (keep-alive): stdout only, the last entry, with timestamps
            RawHttp.Response t = http.request("GET", "/containers/" + id + "/logs?stdout=true&tail=1&timestamps=1",
                    Map.of(), null);
            List<RawHttp.Frame> frames = RawHttp.frames(t.body());
            assertThat(frames).hasSize(1);
            assertThat(frames.get(0).stream()).isEqualTo(1);
            assertThat(frames.get(0).text()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z three\n");
            RawHttp.Response bad = http.request("GET", "/containers/" + id + "/logs", Map.of(), null);
            assertThat(bad.status()).isEqualTo(400);
            assertThat(bad.text()).contains("you must choose at least one stream");
        }
        try (RawHttp http = new RawHttp(port())) {
            RawHttp.Response missing = http.request("GET", "/containers/nope/logs?stdout=1", Map.of(), null);
            assertThat(missing.status()).isEqualTo(404);
            assertThat(Json.mapper().readTree(missing.body()).get("message").asText()).isEqualTo("No such container: nope");
        }
    }

    @Test
    void attachBeforeStartWithHalfCloseGetsAllOutputLikeDockerRun() throws Exception {
        String id = create(spec("none", false, "sh", "-c", "echo out; echo err >&2; exit 3"));
        try (RawHttp http = new RawHttp(port())) {
            http.send("POST", "/containers/" + id + "/attach?stderr=1&stdout=1&stream=1", UPGRADE, new byte[0]);
            RawHttp.Response head = http.head();
            assertThat(head.status()).isEqualTo(101);
            assertThat(head.header("upgrade")).isEqualTo("tcp");
            // the CLI half-closes right after the 101 when there is no stdin
            http.socket.shutdownOutput();
            start(id);
            List<RawHttp.Frame> all = RawHttp.frames(http.in.readAllBytes());
            assertThat(all).containsExactlyInAnyOrder(new RawHttp.Frame(1, "out\n"), new RawHttp.Frame(2, "err\n"));
        }
        assertThat(((NodeObservation.ContainerExited) observations.await(id, NodeObservation.ContainerExited.class)
                .payload()).exitCode()).isEqualTo(3);
    }

    @Test
    void attachedStdinIsClosedByTheClientsHalfClose() throws Exception {
        String id = create(spec("none", true, "cat"));
        try (RawHttp http = new RawHttp(port())) {
            http.send("POST", "/containers/" + id + "/attach?stdin=1&stdout=1&stderr=1&stream=1", UPGRADE, new byte[0]);
            assertThat(http.head().status()).isEqualTo(101);
            start(id);
            http.out.write("piped-input\n".getBytes(StandardCharsets.UTF_8));
            http.out.flush();
            http.socket.shutdownOutput();
            assertThat(RawHttp.frames(http.in.readAllBytes())).containsExactly(new RawHttp.Frame(1, "piped-input\n"));
        }
        assertThat(((NodeObservation.ContainerExited) observations.await(id, NodeObservation.ContainerExited.class)
                .payload()).exitCode()).isEqualTo(0);
    }

    @Test
    void execWithUpgradeAndHalfCloseThenInspect() throws Exception {
        String id = create(spec("none", false, "sleep", "300"));
        start(id);
        String execId;
        try (RawHttp http = new RawHttp(port())) {
            RawHttp.Response r = http.request("POST", "/containers/" + id + "/exec", Map.of("Content-Type", "application/json"),
                    ("{\"AttachStdin\":true,\"AttachStdout\":true,\"AttachStderr\":true,\"Tty\":false,"
                            + "\"Cmd\":[\"sh\",\"-c\",\"cat; echo done >&2; exit 7\"],\"containerId\":null}")
                            .getBytes(StandardCharsets.UTF_8));
            assertThat(r.status()).isEqualTo(201);
            execId = Json.mapper().readTree(r.body()).get("Id").asText();
        }
        try (RawHttp http = new RawHttp(port())) {
            // stdin follows the request body in the same write, as the CLI does
            byte[] body = "{\"Detach\":false,\"Tty\":false}\n".getBytes(StandardCharsets.UTF_8);
            ByteArrayOutputStream req = new ByteArrayOutputStream();
            req.write(("POST /exec/" + execId + "/start HTTP/1.1\r\nHost: node\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            req.write(body);
            req.write("hello\n".getBytes(StandardCharsets.UTF_8));
            http.out.write(req.toByteArray());
            http.out.flush();
            http.socket.shutdownOutput();
            assertThat(http.head().status()).isEqualTo(101);
            assertThat(RawHttp.frames(http.in.readAllBytes())).containsExactlyInAnyOrder(new RawHttp.Frame(1, "hello\n"),
                    new RawHttp.Frame(2, "done\n"));
        }
        try (RawHttp http = new RawHttp(port())) {
            JsonNode inspect = Json.mapper().readTree(http.request("GET", "/exec/" + execId + "/json", Map.of(), null).body());
            assertThat(inspect.get("ExitCode").asInt()).isEqualTo(7);
            assertThat(inspect.get("Running").asBoolean()).isFalse();
            assertThat(inspect.get("ContainerID").asText()).isEqualTo(id);
            assertThat(http.request("POST", "/exec/" + execId + "/start", Map.of(), "{}".getBytes()).status())
                    .isEqualTo(409);
        }
    }

    @Test
    void execWithoutUpgradeIsAClosedDelimited200LikeDockerJava() throws Exception {
        String id = create(spec("none", false, "sleep", "300"));
        start(id);
        try (RawHttp http = new RawHttp(port())) {
            String execId = Json.mapper().readTree(http.request("POST", "/containers/" + id + "/exec", Map.of(),
                    "{\"AttachStdout\":true,\"AttachStderr\":true,\"Cmd\":[\"echo\",\"from-exec\"],\"Tty\":null}"
                            .getBytes()).body()).get("Id").asText();
            RawHttp.Response r = http.request("POST", "/exec/" + execId + "/start", Map.of(),
                    "{\"Detach\":null,\"Tty\":null}".getBytes());
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("content-length")).isNull();
            assertThat(r.header("transfer-encoding")).isNull();
            assertThat(RawHttp.frames(r.body())).containsExactly(new RawHttp.Frame(1, "from-exec\n"));
        }
    }

    @Test
    void archiveInToACreatedContainerAndOutAgain() throws Exception {
        String id = create(spec("none", false, "cat", "/tmp/hello.txt"));
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(tar)) {
            TarArchiveEntry e = new TarArchiveEntry("hello.txt");
            byte[] content = "hello\n".getBytes(StandardCharsets.UTF_8);
            e.setSize(content.length);
            e.setMode(0640);
            e.setUserId(1234);
            t.putArchiveEntry(e);
            t.write(content);
            t.closeArchiveEntry();
        }
        try (RawHttp http = new RawHttp(port())) {
            RawHttp.Response put = http.request("PUT", "/containers/" + id + "/archive?path=/tmp&noOverwriteDirNonDir=true",
                    Map.of("Content-Type", "application/x-tar"), tar.toByteArray());
            assertThat(put.status()).as(put.text()).isEqualTo(200);
            RawHttp.Response got = http.request("GET", "/containers/" + id + "/archive?path=/tmp/hello.txt", Map.of(), null);
            assertThat(got.status()).isEqualTo(200);
            JsonNode stat = Json.mapper().readTree(Base64.getDecoder().decode(got.header("x-docker-container-path-stat")));
            assertThat(stat.get("name").asText()).isEqualTo("hello.txt");
            assertThat(stat.get("size").asLong()).isEqualTo(6);
            assertThat(stat.get("mode").asLong()).isEqualTo(0640);
            try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(got.body()))) {
                TarArchiveEntry e = in.getNextEntry();
                assertThat(e.getName()).isEqualTo("hello.txt");
                assertThat(e.getLongUserId()).as("docker cp makes the owner root").isZero();
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("hello\n");
                assertThat(in.getNextEntry()).isNull();
            }
            RawHttp.Response head = http.request("HEAD", "/containers/" + id + "/archive?path=/nope", Map.of(), null);
            assertThat(head.status()).isEqualTo(404);
            RawHttp.Response escape = http.request("GET", "/containers/" + id + "/archive?path=/../../../etc/hostname",
                    Map.of(), null);
            // ".." cannot leave the container: this is the container's /etc/hostname or nothing, never the host's
            if (escape.status() == 200) {
                assertThat(escape.header("x-docker-container-path-stat")).isNotNull();
                try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(escape.body()))) {
                    in.getNextEntry();
                    assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8).trim())
                            .isNotEqualTo(java.nio.file.Files.readString(java.nio.file.Path.of("/etc/hostname")).trim());
                }
            } else {
                assertThat(escape.status()).isEqualTo(404);
            }
        }
        start(id);
        observations.await(id, NodeObservation.ContainerExited.class);
        try (RawHttp http = new RawHttp(port())) {
            RawHttp.Response logs = http.request("GET", "/containers/" + id + "/logs?stdout=1", Map.of(), null);
            assertThat(RawHttp.frames(logs.body())).containsExactly(new RawHttp.Frame(1, "hello\n"));
        }
    }

    @Test
    void exportIsTheWholeFileSystemOfAStoppedOrRunningContainer() throws Exception {
        String done = create(spec("none", false, "sh", "-c", "echo exported > /made.txt; rm /bin/cat"));
        start(done);
        observations.await(done, NodeObservation.ContainerExited.class);
        String running = create(spec("none", false, "sleep", "300"));
        start(running);
        try (RawHttp http = new RawHttp(port())) {
            RawHttp.Response r = http.request("GET", "/containers/" + done + "/export", Map.of(), null);
            assertThat(r.status()).as(r.text()).isEqualTo(200);
            assertThat(r.header("content-type")).isEqualTo("application/x-tar");
            Map<String, String> files = exported(r.body());
            assertThat(files).containsEntry("made.txt", "exported\n").containsKey("bin/busybox")
                    .as("a file the container deleted is not exported").doesNotContainKey("bin/cat");
            assertThat(files.keySet()).noneMatch(n -> n.startsWith("/") || n.startsWith("./") || n.startsWith("../"));

            RawHttp.Response live = http.request("GET", "/containers/" + running + "/export", Map.of(), null);
            assertThat(live.status()).isEqualTo(200);
            Map<String, String> liveFiles = exported(live.body());
            assertThat(liveFiles).containsKey("bin/busybox").doesNotContainKey("made.txt");
            // the running container's procfs is not part of its file system
            assertThat(liveFiles.keySet()).noneMatch(n -> n.startsWith("proc/") && !n.equals("proc/"));

            RawHttp.Response missing = http.request("GET", "/containers/nothere/export", Map.of(), null);
            assertThat(missing.status()).isEqualTo(404);
        }
    }

    /** Name to content (regular files) or "" (others) of an exported tar. */
    private static Map<String, String> exported(byte[] tar) throws Exception {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            for (TarArchiveEntry e; (e = in.getNextEntry()) != null; ) {
                out.put(e.getName(), e.isFile() ? new String(in.readAllBytes(), StandardCharsets.UTF_8) : "");
            }
        }
        return out;
    }

    @Test
    void archiveIntoTheRootOfARunningContainerAsTestcontainersSendsIt() throws Exception {
        String id = create(spec("none", false, "sleep", "300"));
        start(id);
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(tar)) {
            // Testcontainers' copyFileToContainer: path "/" and the whole container path in the entry name
            TarArchiveEntry e = new TarArchiveEntry("tmp/in/greeting.txt");
            byte[] content = "copied in\n".getBytes(StandardCharsets.UTF_8);
            e.setSize(content.length);
            e.setMode(0640);
            t.putArchiveEntry(e);
            t.write(content);
            t.closeArchiveEntry();
        }
        try (RawHttp http = new RawHttp(port())) {
            RawHttp.Response put = http.request("PUT", "/containers/" + id + "/archive?path=/",
                    Map.of("Content-Type", "application/x-tar"), tar.toByteArray());
            assertThat(put.status()).as(put.text()).isEqualTo(200);
            RawHttp.Response root = http.request("HEAD", "/containers/" + id + "/archive?path=/", Map.of(), null);
            assertThat(root.status()).isEqualTo(200);
            JsonNode rootStat = Json.mapper().readTree(Base64.getDecoder().decode(root.header("x-docker-container-path-stat")));
            assertThat(rootStat.get("mode").asLong() & (1L << 31)).as("/ is a directory").isNotZero();
            assertThat(rootStat.get("linkTarget").asText()).isEmpty();
            RawHttp.Response got = http.request("GET", "/containers/" + id + "/archive?path=/tmp/in/greeting.txt",
                    Map.of(), null);
            assertThat(got.status()).isEqualTo(200);
            try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(got.body()))) {
                assertThat(in.getNextEntry().getName()).isEqualTo("greeting.txt");
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("copied in\n");
            }
            RawHttp.Response stats = http.request("GET", "/containers/" + id + "/stats?stream=false",
                    Map.of("X-Berth-Container-Name", "/greeter"), null);
            assertThat(Json.mapper().readTree(stats.body()).get("name").asText())
                    .as("the name the control plane gave, as docker stats prints it").isEqualTo("/greeter");
        }
    }

    @Test
    void statsTopAndResizeOfARunningContainer() throws Exception {
        String id = create(spec("bridge", false, "sleep", "300"));
        NodeObservation.ContainerStarted started = start(id);
        assertThat(started.network()).isNotNull();
        assertThat(started.network().ipAddress()).startsWith("10.201.13.");
        try (RawHttp http = new RawHttp(port())) {
            RawHttp.Response r = http.request("GET", "/containers/" + id + "/stats?stream=false", Map.of(), null);
            assertThat(r.status()).isEqualTo(200);
            JsonNode s = Json.mapper().readTree(r.body());
            assertThat(s.get("id").asText()).isEqualTo(id);
            assertThat(s.at("/cpu_stats/system_cpu_usage").asLong()).isPositive();
            assertThat(s.at("/precpu_stats/system_cpu_usage").asLong()).isPositive()
                    .isLessThan(s.at("/cpu_stats/system_cpu_usage").asLong());
            assertThat(s.at("/cpu_stats/online_cpus").asInt()).isPositive();
            assertThat(s.at("/cpu_stats/cpu_usage/total_usage").isNumber()).isTrue();
            assertThat(s.at("/memory_stats/usage").asLong()).isPositive();
            assertThat(s.at("/memory_stats/limit").asLong()).isPositive();
            assertThat(s.at("/pids_stats/current").asInt()).isEqualTo(1);
            assertThat(s.at("/networks/eth0/rx_bytes").isNumber()).isTrue();
            assertThat(s.get("read").asText()).isNotEqualTo(s.get("preread").asText());
            assertThat(s.has("blkio_stats")).isTrue();

            RawHttp.Response top = http.request("GET", "/containers/" + id + "/top", Map.of(), null);
            JsonNode t = Json.mapper().readTree(top.body());
            assertThat(t.get("Titles").toString()).contains("PID").contains("CMD");
            assertThat(t.get("Processes").toString()).contains("sleep 300");

            RawHttp.Response resize = http.request("POST", "/containers/" + id + "/resize?h=40&w=120", Map.of(), new byte[0]);
            assertThat(resize.status()).as("no TTY to resize").isEqualTo(400);
        }
        try (RawHttp http = new RawHttp(port())) {
            http.send("GET", "/containers/" + id + "/stats", Map.of(), null);
            RawHttp.Response head = http.head();
            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("transfer-encoding")).isEqualTo("chunked");
        }
    }

    @Test
    void aTtyContainersStreamsAreRawAndAnExecTtyCanBeResized() throws Exception {
        NodeContainerSpec tty = AgentTestKit.busybox(repository, new NodeContainerSpec.Layer(diffId, digest, null, 0),
                List.of("sh", "-c", "echo tty-hello; sleep 300"), "none", true, false, null, false);
        String id = create(tty);
        try (RawHttp http = new RawHttp(port())) {
            http.send("POST", "/containers/" + id + "/attach?stdout=1&stderr=1&stream=1", UPGRADE, new byte[0]);
            assertThat(http.head().status()).isEqualTo(101);
            http.socket.shutdownOutput();
            start(id);
            byte[] first = new byte["tty-hello\r\n".length()];
            new java.io.DataInputStream(http.in).readFully(first);
            assertThat(new String(first, StandardCharsets.UTF_8)).isEqualTo("tty-hello\r\n");
        }
        try (RawHttp http = new RawHttp(port())) {
            String execId = Json.mapper().readTree(http.request("POST", "/containers/" + id + "/exec", Map.of(),
                    ("{\"AttachStdin\":true,\"AttachStdout\":true,\"Tty\":true,"
                            + "\"Cmd\":[\"sh\",\"-c\",\"read x; stty size\"]}").getBytes()).body()).get("Id").asText();
            try (RawHttp stream = new RawHttp(port())) {
                stream.send("POST", "/exec/" + execId + "/start", UPGRADE, "{\"Detach\":false,\"Tty\":true}".getBytes());
                assertThat(stream.head().status()).isEqualTo(101);
                RawHttp.Response resize = http.request("POST", "/exec/" + execId + "/resize?h=40&w=120", Map.of(),
                        new byte[0]);
                assertThat(resize.status()).as(resize.text()).isEqualTo(200);
                stream.out.write("go\n".getBytes(StandardCharsets.UTF_8));
                stream.out.flush();
                String out = new String(stream.in.readAllBytes(), StandardCharsets.UTF_8);
                assertThat(out).contains("40 120").doesNotContain("\u0001\u0000\u0000\u0000");
            }
            JsonNode inspect = Json.mapper().readTree(http.request("GET", "/exec/" + execId + "/json", Map.of(), null).body());
            assertThat(inspect.get("ExitCode").asInt()).isZero();
        }
        try (RawHttp http = new RawHttp(port())) {
            RawHttp.Response logs = http.request("GET", "/containers/" + id + "/logs?stdout=1&stderr=1", Map.of(), null);
            assertThat(logs.text()).isEqualTo("tty-hello\r\n");
        }
    }

    @Test
    void waitFlushesItsHeadersBeforeStartAndAnswersWithTheExitCode() throws Exception {
        String id = create(spec("none", false, "sh", "-c", "exit 4"));
        try (RawHttp http = new RawHttp(port())) {
            http.send("POST", "/containers/" + id + "/wait?condition=next-exit", Map.of(), new byte[0]);
            RawHttp.Response head = http.head();
            assertThat(head.status()).isEqualTo(200);
            start(id);
            JsonNode body = Json.mapper().readTree(http.rest(head).body());
            assertThat(body.get("StatusCode").asInt()).isEqualTo(4);
        }
        try (RawHttp http = new RawHttp(port())) {
            RawHttp.Response r = http.request("POST", "/containers/" + id + "/wait", Map.of(), new byte[0]);
            JsonNode body = Json.mapper().readTree(r.body());
            assertThat(body.get("StatusCode").asInt()).isEqualTo(4);
            assertThat(body.get("Error").isNull()).isTrue();
        }
    }
}
