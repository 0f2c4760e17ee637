package dev.berth.gateway.system;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.gateway.api.DockerApiServer;
import dev.berth.gateway.support.FakeServices;
import dev.berth.gateway.support.RawHttp;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** /info against services that answer: every key clients read, the host's real figures, the services' counts. */
@QuarkusTest
@QuarkusTestResource(value = FakeServices.class, restrictToAnnotatedClass = true)
class InfoTest {

    /** Every key the recorded dockerd 20.10 /info carried. */
    static final List<String> DOCKER_INFO_KEYS = List.of("ID", "Containers", "ContainersRunning", "ContainersPaused",
            "ContainersStopped", "Images", "Driver", "DriverStatus", "Plugins", "MemoryLimit", "SwapLimit", "KernelMemory",
            "KernelMemoryTCP", "CpuCfsPeriod", "CpuCfsQuota", "CPUShares", "CPUSet", "PidsLimit", "IPv4Forwarding",
            "BridgeNfIptables", "BridgeNfIp6tables", "Debug", "NFd", "OomKillDisable", "NGoroutines", "SystemTime",
            "LoggingDriver", "CgroupDriver", "CgroupVersion", "NEventsListener", "KernelVersion", "OperatingSystem",
            "OSVersion", "OSType", "Architecture", "IndexServerAddress", "RegistryConfig", "NCPU", "MemTotal",
            "GenericResources", "DockerRootDir", "HttpProxy", "HttpsProxy", "NoProxy", "Name", "Labels", "ExperimentalBuild",
            "ServerVersion", "Runtimes", "DefaultRuntime", "Swarm", "LiveRestoreEnabled", "Isolation", "InitBinary",
            "ContainerdCommit", "RuncCommit", "InitCommit", "SecurityOptions", "Warnings");

    @Inject
    DockerApiServer server;

    private final ObjectMapper json = new ObjectMapper();

    @Test
    void infoHasEveryKeyDockerClientsRead() throws Exception {
        JsonNode info = info("/v1.41/info");
        assertThat(info.fieldNames()).toIterable().containsAll(DOCKER_INFO_KEYS);
        assertThat(info.path("RegistryConfig").path("InsecureRegistryCIDRs").get(0).asText()).isEqualTo("127.0.0.0/8");
        assertThat(info.path("Swarm").path("LocalNodeState").asText()).isEqualTo("inactive");
        assertThat(info.path("Runtimes").has("berth")).isTrue();
        assertThat(info.path("DefaultRuntime").asText()).isEqualTo("berth");
        assertThat(info.path("Driver").asText()).isEqualTo("overlay2");
        assertThat(info.path("CgroupDriver").asText()).isEqualTo("cgroupfs");
        assertThat(info.path("LoggingDriver").asText()).isEqualTo("json-file");
        assertThat(info.path("DockerRootDir").asText()).isEqualTo("/var/lib/berth");
        assertThat(info.path("OSType").asText()).isEqualTo("linux");
    }

    @Test
    void infoReportsTheHostsRealFigures() throws Exception {
        JsonNode info = info("/info");
        assertThat(info.path("KernelVersion").asText()).isEqualTo(read("/proc/sys/kernel/osrelease"));
        assertThat(info.path("Name").asText()).isEqualTo(read("/proc/sys/kernel/hostname"));
        assertThat(info.path("NCPU").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
        long memTotalKb = Files.readAllLines(Path.of("/proc/meminfo")).stream()
                .filter(l -> l.startsWith("MemTotal:"))
                .map(l -> Long.parseLong(l.replaceAll("\\D", "")))
                .findFirst().orElseThrow();
        assertThat(info.path("MemTotal").asLong()).isEqualTo(memTotalKb * 1024);
        String prettyName = Files.readAllLines(Path.of("/etc/os-release")).stream()
                .filter(l -> l.startsWith("PRETTY_NAME="))
                .map(l -> l.substring("PRETTY_NAME=".length()).replace("\"", ""))
                .findFirst().orElseThrow();
        assertThat(info.path("OperatingSystem").asText()).isEqualTo(prettyName);
        String cgroupVersion = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers")) ? "2" : "1";
        assertThat(info.path("CgroupVersion").asText()).isEqualTo(cgroupVersion);
        String machine = new String(new ProcessBuilder("uname", "-m").start().getInputStream().readAllBytes()).trim();
        assertThat(info.path("Architecture").asText()).isEqualTo(machine);
    }

    @Test
    void infoCountsComeFromTheServices() throws Exception {
        JsonNode info = info("/v1.44/info");
        // the fake container-service lists one running, one paused and one exited container; image-service two images
        assertThat(info.path("Containers").asInt()).isEqualTo(3);
        assertThat(info.path("ContainersRunning").asInt()).isEqualTo(1);
        assertThat(info.path("ContainersPaused").asInt()).isEqualTo(1);
        assertThat(info.path("ContainersStopped").asInt()).isEqualTo(1);
        assertThat(info.path("Images").asInt()).isEqualTo(2);
        assertThat(info.path("Warnings").toString()).doesNotContain("unavailable");
        // asked with the caller's tenant and all=1, as Docker counts stopped containers too
        assertThat(FakeServices.container.last("/containers/json").target()).isEqualTo("/containers/json?all=1");
        assertThat(FakeServices.container.last("/containers/json").header("X-Berth-Tenant")).isEqualTo("default");
        assertThat(FakeServices.image.last("/images/json").header("X-Berth-Tenant")).isEqualTo("default");
    }

    @Test
    void diskUsageIsAssembledFromTheServicesLists() throws Exception {
        JsonNode df = info("/v1.44/system/df");
        assertThat(df.path("LayersSize").asLong()).isEqualTo(3000);
        assertThat(df.path("Images").size()).isEqualTo(2);
        // containers a and b use image sha256:1
        assertThat(df.path("Images").get(0).path("Containers").asInt()).isEqualTo(2);
        assertThat(df.path("Images").get(1).path("Containers").asInt()).isZero();
        assertThat(df.path("Containers").size()).isEqualTo(3);
        assertThat(df.path("Volumes").get(0).path("UsageData").path("RefCount").asInt()).isEqualTo(1);
        assertThat(df.path("Volumes").get(1).path("UsageData").path("RefCount").asInt()).isZero();
        assertThat(df.path("Volumes").get(1).path("UsageData").path("Size").asLong()).isEqualTo(-1);
        assertThat(df.path("BuildCache").isArray()).isTrue();
        assertThat(FakeServices.container.last("/containers/json?all=1&size=1")).isNotNull();
    }

    private JsonNode info(String path) throws Exception {
        RawHttp.Response r = RawHttp.call(server.port(), "GET", path);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).isEqualTo("application/json");
        return json.readTree(r.body());
    }

    private static String read(String file) throws Exception {
        return Files.readString(Path.of(file)).trim();
    }
}
