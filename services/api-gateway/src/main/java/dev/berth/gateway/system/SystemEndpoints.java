package dev.berth.gateway.system;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.gateway.api.ApiVersion;
import dev.berth.gateway.api.Headers;
import dev.berth.gateway.api.Route;
import dev.berth.gateway.config.GatewayConfig;
import jakarta.enterprise.context.ApplicationScoped;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The engine-wide endpoints the gateway answers itself: {@code /version} and {@code /info}.
 *
 * <p>Host figures are read from the kernel. Container and image counts come from the owning services' list
 * endpoints, asked with the caller's tenant, so a tenant sees its own counts; a service that does not answer
 * within {@code berth.gateway.info-timeout} counts as 0 and is named in {@code Warnings}, because a client
 * (Testcontainers, {@code docker info}) must get an answer even while part of the platform is down.
 */
@ApplicationScoped
public class SystemEndpoints {

    private static final DateTimeFormatter RFC3339_NANO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.nnnnnnnnnXXX");

    private final GatewayConfig config;
    private final ObjectMapper json;
    private final HostFacts host = new HostFacts();
    private final BuildInfo build = BuildInfo.load();
    private final HttpClient http;

    public SystemEndpoints(GatewayConfig config, ObjectMapper json) {
        this.config = config;
        this.json = json;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(config.infoTimeout())
                .build();
    }

    public BuildInfo build() {
        return build;
    }

    /** The body of GET /version. */
    public Map<String, Object> version() {
        String kernel = host.kernelVersion();
        String goVersion = "java" + Runtime.version();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("ApiVersion", ApiVersion.MAX.toString());
        details.put("Arch", host.goArch());
        details.put("BuildTime", build.buildTime());
        details.put("Experimental", "false");
        details.put("GitCommit", config.gitCommit());
        details.put("GoVersion", goVersion);
        details.put("KernelVersion", kernel);
        details.put("MinAPIVersion", ApiVersion.MIN.toString());
        details.put("Os", "linux");

        Map<String, Object> engine = new LinkedHashMap<>();
        engine.put("Name", "Engine");
        engine.put("Version", build.engineVersion());
        engine.put("Details", details);
        Map<String, Object> berth = new LinkedHashMap<>();
        berth.put("Name", "Berth");
        berth.put("Version", build.version());
        berth.put("Details", Map.of("GitCommit", config.gitCommit()));

        Map<String, Object> body = new LinkedHashMap<>();
        body.put("Platform", Map.of("Name", "Berth"));
        body.put("Components", List.of(engine, berth));
        body.put("Version", build.engineVersion());
        body.put("ApiVersion", ApiVersion.MAX.toString());
        body.put("MinAPIVersion", ApiVersion.MIN.toString());
        body.put("GitCommit", config.gitCommit());
        body.put("GoVersion", goVersion);
        body.put("Os", "linux");
        body.put("Arch", host.goArch());
        body.put("KernelVersion", kernel);
        body.put("Experimental", false);
        body.put("BuildTime", build.buildTime());
        return body;
    }

    /** Container counts by Docker state, from container-service. */
    record ContainerCounts(int total, int running, int paused, int stopped) {
    }

    /** The body of GET /info, once the services have answered or timed out. Never completes exceptionally. */
    public CompletableFuture<Map<String, Object>> info(String tenant) {
        List<String> warnings = new ArrayList<>();
        CompletableFuture<JsonNode> containers = list(config.containerService(), "/containers/json?all=1", tenant);
        CompletableFuture<JsonNode> images = list(config.imageService(), "/images/json", tenant);
        return CompletableFuture.allOf(containers.exceptionally(e -> null), images.exceptionally(e -> null))
                .handle((ignored, e) -> {
                    ContainerCounts counts = new ContainerCounts(0, 0, 0, 0);
                    JsonNode c = containers.exceptionally(x -> null).getNow(null);
                    if (c == null) {
                        warnings.add(unavailable(Route.Service.CONTAINER, config.containerService(), "container"));
                    } else {
                        counts = count(c);
                    }
                    JsonNode i = images.exceptionally(x -> null).getNow(null);
                    int imageCount = 0;
                    if (i == null) {
                        warnings.add(unavailable(Route.Service.IMAGE, config.imageService(), "image"));
                    } else {
                        imageCount = i.size();
                    }
                    return body(counts, imageCount, warnings);
                });
    }

    private static String unavailable(Route.Service service, GatewayConfig.Backend backend, String noun) {
        return "WARNING: " + service.displayName() + " is unavailable at " + backend.host() + ":" + backend.port()
                + "; " + noun + " counts are shown as 0";
    }

    private static ContainerCounts count(JsonNode list) {
        int running = 0;
        int paused = 0;
        int stopped = 0;
        for (JsonNode c : list) {
            switch (c.path("State").asText("")) {
                case "running" -> running++;
                case "paused" -> paused++;
                default -> stopped++;
            }
        }
        return new ContainerCounts(list.size(), running, paused, stopped);
    }

    /** A service did not give what an engine-wide endpoint needs from it. */
    public static final class ServiceUnavailable extends RuntimeException {
        private final Route.Service service;

        ServiceUnavailable(Route.Service service, Throwable cause) {
            super(service.displayName() + " is unavailable", cause);
            this.service = service;
        }

        public Route.Service service() {
            return service;
        }
    }

    /**
     * The body of GET /system/df, assembled from the services' lists as the caller's tenant: images (with the
     * number of containers using each), containers (with the sizes container-service reports for size=1), and
     * volumes (with the number of containers mounting each). Completes with {@link ServiceUnavailable} when a
     * service does not answer: a partial disk-usage report would mislead.
     */
    public CompletableFuture<Map<String, Object>> diskUsage(String tenant) {
        CompletableFuture<JsonNode> images = required(Route.Service.IMAGE,
                list(config.imageService(), "/images/json", tenant));
        CompletableFuture<JsonNode> containers = required(Route.Service.CONTAINER,
                list(config.containerService(), "/containers/json?all=1&size=1", tenant));
        CompletableFuture<JsonNode> volumes = required(Route.Service.VOLUME,
                get(config.volumeService(), "/volumes", tenant));
        return CompletableFuture.allOf(images, containers, volumes).thenApply(ignored -> {
            JsonNode containerList = containers.join();
            long layersSize = 0;
            List<JsonNode> imageList = new ArrayList<>();
            for (JsonNode image : images.join()) {
                ObjectNode copy = image.deepCopy();
                String id = image.path("Id").asText();
                int users = 0;
                for (JsonNode c : containerList) {
                    if (id.equals(c.path("ImageID").asText()) || id.equals(c.path("Image").asText())) {
                        users++;
                    }
                }
                copy.put("Containers", users);
                layersSize += Math.max(0, image.path("Size").asLong());
                imageList.add(copy);
            }
            List<JsonNode> volumeList = new ArrayList<>();
            for (JsonNode volume : volumes.join().path("Volumes")) {
                ObjectNode copy = volume.deepCopy();
                String name = volume.path("Name").asText();
                int refs = 0;
                for (JsonNode c : containerList) {
                    for (JsonNode m : c.path("Mounts")) {
                        if ("volume".equals(m.path("Type").asText()) && name.equals(m.path("Name").asText())) {
                            refs++;
                        }
                    }
                }
                ObjectNode usage = copy.putObject("UsageData");
                // -1 is Docker's "not computed"; only the volume-service can measure a volume's size
                usage.put("Size", volume.path("UsageData").path("Size").asLong(-1));
                usage.put("RefCount", refs);
                volumeList.add(copy);
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("LayersSize", layersSize);
            body.put("Images", imageList);
            body.put("Containers", containerList);
            body.put("Volumes", volumeList);
            body.put("BuildCache", List.of());
            return body;
        });
    }

    private static CompletableFuture<JsonNode> required(Route.Service service, CompletableFuture<JsonNode> answer) {
        return answer.handle((node, e) -> {
            if (e != null) {
                throw new ServiceUnavailable(service, e);
            }
            return node;
        });
    }

    private CompletableFuture<JsonNode> list(GatewayConfig.Backend backend, String pathAndQuery, String tenant) {
        return get(backend, pathAndQuery, tenant).thenApply(node -> {
            if (!node.isArray()) {
                throw new IllegalStateException("not a JSON array");
            }
            return node;
        });
    }

    private CompletableFuture<JsonNode> get(GatewayConfig.Backend backend, String pathAndQuery, String tenant) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + backend.host() + ":" + backend.port() + pathAndQuery))
                .timeout(config.infoTimeout())
                .header(Headers.TENANT, tenant)
                .header(Headers.API_VERSION_TO_SERVICES, ApiVersion.MAX.toString())
                .header("Accept", "application/json")
                .GET()
                .build();
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).thenApply(response -> {
            if (response.statusCode() != 200) {
                throw new IllegalStateException("status " + response.statusCode());
            }
            try {
                return json.readTree(response.body());
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private Map<String, Object> body(ContainerCounts containers, int images, List<String> serviceWarnings) {
        Set<String> controllers = host.cgroupControllers();
        int cgroupVersion = host.cgroupVersion();
        Map<String, String> os = host.osRelease();
        List<String> warnings = new ArrayList<>(serviceWarnings);
        boolean ipForward = host.sysctlOn("net.ipv4.ip_forward");
        boolean nfIptables = host.sysctlOn("net.bridge.bridge-nf-call-iptables");
        boolean nfIp6tables = host.sysctlOn("net.bridge.bridge-nf-call-ip6tables");
        if (!ipForward) {
            warnings.add("WARNING: IPv4 forwarding is disabled");
        }
        if (!nfIptables) {
            warnings.add("WARNING: bridge-nf-call-iptables is disabled");
        }
        if (!nfIp6tables) {
            warnings.add("WARNING: bridge-nf-call-ip6tables is disabled");
        }

        Map<String, Object> b = new LinkedHashMap<>();
        b.put("ID", host.engineId());
        b.put("Containers", containers.total());
        b.put("ContainersRunning", containers.running());
        b.put("ContainersPaused", containers.paused());
        b.put("ContainersStopped", containers.stopped());
        b.put("Images", images);
        b.put("Driver", "overlay2");
        b.put("DriverStatus", List.of(List.of("Backing Filesystem", host.backingFilesystem(config.rootDir()))));
        Map<String, Object> plugins = new LinkedHashMap<>();
        plugins.put("Volume", List.of("local"));
        plugins.put("Network", List.of("bridge", "host", "none", "overlay"));
        plugins.put("Authorization", null);
        plugins.put("Log", List.of("json-file"));
        b.put("Plugins", plugins);
        b.put("MemoryLimit", controllers.contains("memory"));
        b.put("SwapLimit", host.swapLimit());
        b.put("KernelMemory", false);
        b.put("KernelMemoryTCP", false);
        b.put("CpuCfsPeriod", controllers.contains("cpu"));
        b.put("CpuCfsQuota", controllers.contains("cpu"));
        b.put("CPUShares", controllers.contains("cpu"));
        b.put("CPUSet", controllers.contains("cpuset"));
        b.put("PidsLimit", controllers.contains("pids"));
        b.put("IPv4Forwarding", ipForward);
        b.put("BridgeNfIptables", nfIptables);
        b.put("BridgeNfIp6tables", nfIp6tables);
        b.put("Debug", false);
        b.put("NFd", host.openFiles());
        b.put("OomKillDisable", false);
        b.put("NGoroutines", ManagementFactory.getThreadMXBean().getThreadCount());
        b.put("SystemTime", OffsetDateTime.now().format(RFC3339_NANO));
        b.put("LoggingDriver", "json-file");
        b.put("CgroupDriver", "cgroupfs");
        b.put("CgroupVersion", Integer.toString(cgroupVersion));
        b.put("NEventsListener", 0);
        b.put("KernelVersion", host.kernelVersion());
        b.put("OperatingSystem", os.getOrDefault("PRETTY_NAME", "Linux"));
        b.put("OSVersion", os.getOrDefault("VERSION_ID", ""));
        b.put("OSType", "linux");
        b.put("Architecture", host.machine());
        b.put("IndexServerAddress", "https://index.docker.io/v1/");
        Map<String, Object> docker = new LinkedHashMap<>();
        docker.put("Name", "docker.io");
        docker.put("Mirrors", List.of());
        docker.put("Secure", true);
        docker.put("Official", true);
        Map<String, Object> registry = new LinkedHashMap<>();
        registry.put("AllowNondistributableArtifactsCIDRs", List.of());
        registry.put("AllowNondistributableArtifactsHostnames", List.of());
        registry.put("InsecureRegistryCIDRs", List.of("127.0.0.0/8"));
        registry.put("IndexConfigs", Map.of("docker.io", docker));
        registry.put("Mirrors", List.of());
        b.put("RegistryConfig", registry);
        b.put("NCPU", host.cpus());
        b.put("MemTotal", host.memTotalBytes());
        b.put("GenericResources", null);
        b.put("DockerRootDir", config.rootDir());
        b.put("HttpProxy", HostFacts.proxyEnv("http_proxy"));
        b.put("HttpsProxy", HostFacts.proxyEnv("https_proxy"));
        b.put("NoProxy", HostFacts.proxyEnv("no_proxy"));
        b.put("Name", host.hostname());
        b.put("Labels", List.of());
        b.put("ExperimentalBuild", false);
        b.put("ServerVersion", build.engineVersion());
        b.put("Runtimes", Map.of("berth", Map.of("path", "berth-node-agent")));
        b.put("DefaultRuntime", "berth");
        Map<String, Object> swarm = new LinkedHashMap<>();
        swarm.put("NodeID", "");
        swarm.put("NodeAddr", "");
        swarm.put("LocalNodeState", "inactive");
        swarm.put("ControlAvailable", false);
        swarm.put("Error", "");
        swarm.put("RemoteManagers", null);
        b.put("Swarm", swarm);
        b.put("LiveRestoreEnabled", false);
        b.put("Isolation", "");
        b.put("InitBinary", "");
        b.put("ContainerdCommit", commit(""));
        b.put("RuncCommit", commit(""));
        b.put("InitCommit", commit(""));
        List<String> security = new ArrayList<>();
        security.add("name=no-new-privileges");
        if (cgroupVersion == 2) {
            security.add("name=cgroupns");
        }
        b.put("SecurityOptions", security);
        b.put("Warnings", warnings);
        return b;
    }

    private static Map<String, String> commit(String id) {
        return Map.of("ID", id, "Expected", id);
    }
}
