package dev.berth.testing;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) in its own JVM, from the Kafka jars this
 * module copies to {@code libs/testing/target/kafka-broker/}; or an existing broker named by
 * {@code BERTH_KAFKA_BOOTSTRAP}.
 *
 * <p>A local broker can be stopped (SIGTERM), killed (SIGKILL) and started again on the same ports and data, which the
 * "Kafka is down" tests need. The jar directory is found from {@code BERTH_KAFKA_LIBS} (environment or system
 * property), else by looking for {@code libs/testing/target/kafka-broker} from the working directory upwards.
 */
public final class KafkaBroker implements AutoCloseable {
    private static KafkaBroker shared;

    private final String bootstrap;
    private final Path dir;
    private final Path libs;
    private final int brokerPort;
    private final int controllerPort;
    private Process process;

    private KafkaBroker(String bootstrap, Path dir, Path libs, int brokerPort, int controllerPort) {
        this.bootstrap = bootstrap;
        this.dir = dir;
        this.libs = libs;
        this.brokerPort = brokerPort;
        this.controllerPort = controllerPort;
    }

    /**
     * The broker for this JVM: the one named by {@code BERTH_KAFKA_BOOTSTRAP}, else a local one started on first use
     * and stopped (by PID) when the JVM exits.
     */
    public static synchronized KafkaBroker shared() {
        if (shared == null) {
            String external = Processes.env("BERTH_KAFKA_BOOTSTRAP");
            if (external != null) {
                shared = new KafkaBroker(external, null, null, -1, -1);
            } else {
                KafkaBroker local = startLocal();
                Runtime.getRuntime().addShutdownHook(new Thread(local::close, "berth-kafka-stop"));
                shared = local;
            }
        }
        return shared;
    }

    /**
     * Formats and starts a new local broker, whatever the environment says (for tests that stop it).
     *
     * @throws IllegalStateException if the jars are missing or the broker does not become ready (with its log)
     */
    public static KafkaBroker startLocal() {
        Path libs = findLibs();
        Path dir;
        try {
            dir = Files.createTempDirectory("berth-kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a broker directory", e);
        }
        int brokerPort = Processes.freePort();
        int controllerPort = Processes.freePort();
        while (controllerPort == brokerPort) {
            controllerPort = Processes.freePort();
        }
        KafkaBroker broker = new KafkaBroker("127.0.0.1:" + brokerPort, dir, libs, brokerPort, controllerPort);
        broker.writeConfig();
        broker.format();
        broker.start();
        return broker;
    }

    private static Path findLibs() {
        String configured = Processes.env("BERTH_KAFKA_LIBS");
        if (configured != null) {
            return requireJars(Paths.get(configured));
        }
        Path here = Paths.get("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            for (Path candidate : List.of(p.resolve("libs/testing/target/kafka-broker"), p.resolve("target/kafka-broker"))) {
                if (Files.isDirectory(candidate)) {
                    return requireJars(candidate);
                }
            }
        }
        throw new IllegalStateException("Kafka broker jars not found: build libs/testing (mvn -pl libs/testing "
                + "package) or set BERTH_KAFKA_LIBS to a directory with kafka_2.13 and its dependencies, "
                + "or BERTH_KAFKA_BOOTSTRAP to an existing broker");
    }

    private static Path requireJars(Path libs) {
        try (var files = Files.list(libs)) {
            if (files.noneMatch(f -> f.getFileName().toString().startsWith("kafka_2.13-"))) {
                throw new IllegalStateException(libs + " holds no kafka_2.13 jar");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + libs, e);
        }
        return libs;
    }

    private void writeConfig() {
        String config = String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + brokerPort,
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                "log.dirs=" + dir.resolve("data"),
                // Several partitions, so per-key ordering is really exercised.
                "num.partitions=3",
                "auto.create.topics.enable=true",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=3",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "log.flush.interval.messages=1000000",
                "") ;
        String log4j = String.join("\n",
                "status = warn",
                "appender.out.type = Console",
                "appender.out.name = OUT",
                "appender.out.layout.type = PatternLayout",
                "appender.out.layout.pattern = [%d] %p %m (%c)%n",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.out.ref = OUT",
                "logger.kafka.name = kafka",
                "logger.kafka.level = INFO",
                "logger.apache.name = org.apache.kafka",
                "logger.apache.level = WARN",
                "");
        try {
            Files.writeString(dir.resolve("server.properties"), config);
            Files.writeString(dir.resolve("log4j2.properties"), log4j);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the broker configuration", e);
        }
    }

    private List<String> java(String mainClass, List<String> args) {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xms64m", "-Xmx256m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
                "-Dlog4j2.configurationFile=" + dir.resolve("log4j2.properties"),
                "-Dkafka.logs.dir=" + dir.resolve("logs"),
                "-cp", libs.toAbsolutePath() + "/*", mainClass));
        command.addAll(args);
        return command;
    }

    private void format() {
        Processes.run(java("kafka.tools.StorageTool", List.of("format", "-t", Uuid.randomUuid().toString(),
                "-c", dir.resolve("server.properties").toString())), 120);
    }

    /**
     * Starts the broker process (again, after {@link #stop()} or {@link #kill()}: same ports, same data) and waits until
     * it answers.
     */
    public synchronized void start() {
        requireLocal();
        if (process != null && process.isAlive()) {
            return;
        }
        Path log = dir.resolve("broker.log");
        long logStart = log.toFile().length();
        try {
            process = new ProcessBuilder(java("kafka.Kafka", List.of(dir.resolve("server.properties").toString())))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the Kafka broker", e);
        }
        awaitReady(Duration.ofSeconds(90), log, logStart);
    }

    private void awaitReady(Duration timeout, Path log, long logStart) {
        Instant deadline = Instant.now().plus(timeout);
        // The broker's own "started" line first, so the client below does not spend the boot time reconnecting.
        while (Instant.now().isBefore(deadline) && process.isAlive() && !logged(log, logStart, "Kafka Server started")) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        Exception last = null;
        try (Admin admin = Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3000,
                AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 200))) {
            while (Instant.now().isBefore(deadline)) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("Kafka broker exited with " + process.exitValue() + ":\n"
                            + tail(log));
                }
                try {
                    if (!admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception e) {
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                    last = e;
                }
            }
        }
        kill();
        throw new IllegalStateException("Kafka broker not ready within " + timeout + " ("
                + (last == null ? "" : last.getMessage()) + "):\n" + tail(log));
    }

    private static boolean logged(Path log, long from, String line) {
        try {
            if (!Files.exists(log)) {
                return false;
            }
            byte[] all = Files.readAllBytes(log);
            int start = (int) Math.min(from, all.length);
            return new String(all, start, all.length - start).contains(line);
        } catch (IOException e) {
            return false;
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /** Stops the broker gracefully (SIGTERM by PID) and waits for it to exit. Data and ports are kept. */
    public synchronized void stop() {
        requireLocal();
        if (process != null && process.isAlive()) {
            process.destroy();
            Processes.awaitExit(process, 60);
        }
    }

    /** Kills the broker (SIGKILL by PID), as a crash would. Data and ports are kept. */
    public synchronized void kill() {
        requireLocal();
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            Processes.awaitExit(process, 30);
        }
    }

    /** Whether the broker process runs. */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** {@code host:port} for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return bootstrap;
    }

    /** Whether this JVM started the broker (and so may stop it). */
    public boolean isLocal() {
        return dir != null;
    }

    /** The broker's process id (local brokers only). */
    public synchronized long pid() {
        requireLocal();
        return process.pid();
    }

    private void requireLocal() {
        if (dir == null) {
            throw new IllegalStateException("the broker at " + bootstrap + " was not started by this JVM");
        }
    }

    /** Stops a local broker and deletes its directory; nothing for an external one. */
    @Override
    public synchronized void close() {
        if (dir == null) {
            return;
        }
        stop();
        Processes.deleteRecursively(dir);
    }
}
