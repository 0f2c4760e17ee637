package dev.berth.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A real PostgreSQL for tests: either a throwaway cluster from the system's binaries (initdb into a temporary
 * directory, a free port on 127.0.0.1, trust authentication, run as the {@code postgres} user when started as root),
 * or an existing server named by {@code BERTH_PG_HOST}, {@code BERTH_PG_PORT}, {@code BERTH_PG_USER},
 * {@code BERTH_PG_PASSWORD} (environment or system properties).
 *
 * <p>Tests get isolation from {@link #createDatabase()}, a fresh database each time.
 */
public final class PostgresServer implements AutoCloseable {
    private static PostgresServer shared;

    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final Process process;
    private final Path dataDir;

    private PostgresServer(String host, int port, String user, String password, Process process, Path dataDir) {
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.process = process;
        this.dataDir = dataDir;
    }

    /**
     * The server for this JVM: the one named by the environment, else a local one started on first use and stopped
     * (by PID) when the JVM exits.
     */
    public static synchronized PostgresServer shared() {
        if (shared == null) {
            shared = fromEnvironment();
            if (shared == null) {
                PostgresServer local = startLocal();
                Runtime.getRuntime().addShutdownHook(new Thread(local::close, "berth-postgres-stop"));
                shared = local;
            }
        }
        return shared;
    }

    /** The server named by {@code BERTH_PG_HOST} (and port, user, password), or null if none is named. */
    public static PostgresServer fromEnvironment() {
        String host = Processes.env("BERTH_PG_HOST");
        if (host == null) {
            return null;
        }
        String port = Processes.env("BERTH_PG_PORT");
        String user = Processes.env("BERTH_PG_USER");
        String password = Processes.env("BERTH_PG_PASSWORD");
        return new PostgresServer(host, port == null ? 5432 : Integer.parseInt(port), user == null ? "postgres" : user,
                password == null ? "" : password, null, null);
    }

    /**
     * Starts a throwaway cluster from the system's PostgreSQL binaries.
     *
     * @throws IllegalStateException if no PostgreSQL binaries are found or the server does not come up (with its log)
     */
    public static PostgresServer startLocal() {
        Path bin = findBinaries();
        String osUser = Processes.isRoot() ? osUserForServer() : System.getProperty("user.name");
        Path dir;
        try {
            dir = Files.createTempDirectory("berth-pg-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a data directory", e);
        }
        Path data = dir.resolve("data");
        if (Processes.isRoot()) {
            Processes.run(List.of("chown", osUser, dir.toString()), 30);
        }
        Processes.run(Processes.asUser(osUser, List.of(bin.resolve("initdb").toString(), "-D", data.toString(),
                "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")), 120);
        int port = Processes.freePort();
        Path log = dir.resolve("postgres.log");
        List<String> command = new ArrayList<>(List.of(bin.resolve("postgres").toString(), "-D", data.toString(),
                "-p", Integer.toString(port), "-c", "listen_addresses=127.0.0.1",
                "-c", "unix_socket_directories=" + dir, "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off", "-c", "max_connections=300", "-c", "shared_buffers=64MB"));
        Process process;
        try {
            process = new ProcessBuilder(Processes.asUser(osUser, command))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start postgres", e);
        }
        PostgresServer server = new PostgresServer("127.0.0.1", port, "postgres", "", process, dir);
        server.awaitReady(Duration.ofSeconds(60), log);
        return server;
    }

    private static String osUserForServer() {
        try {
            Processes.run(List.of("id", "-u", "postgres"), 10);
            return "postgres";
        } catch (IllegalStateException e) {
            return "nobody";
        }
    }

    private static Path findBinaries() {
        String configured = Processes.env("BERTH_PG_BIN");
        if (configured != null) {
            return Paths.get(configured);
        }
        for (String entry : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path initdb = Paths.get(entry, "initdb");
            if (!entry.isEmpty() && Files.isExecutable(initdb)) {
                try {
                    Path real = initdb.toRealPath().getParent();
                    if (Files.isExecutable(real.resolve("postgres"))) {
                        return real;
                    }
                } catch (IOException ignored) {
                    // a dangling link: keep looking
                }
            }
        }
        Path root = Paths.get("/usr/lib/postgresql");
        if (Files.isDirectory(root)) {
            try (Stream<Path> versions = Files.list(root)) {
                var found = versions.map(v -> v.resolve("bin"))
                        .filter(b -> Files.isExecutable(b.resolve("initdb")))
                        .max(Comparator.comparingInt(PostgresServer::majorVersion));
                if (found.isPresent()) {
                    return found.get();
                }
            } catch (IOException ignored) {
                // fall through to the error below
            }
        }
        throw new IllegalStateException("no PostgreSQL binaries: install postgresql (initdb, postgres) or set "
                + "BERTH_PG_HOST/BERTH_PG_PORT/BERTH_PG_USER/BERTH_PG_PASSWORD to an existing server");
    }

    private static int majorVersion(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private void awaitReady(Duration timeout, Path log) {
        Instant deadline = Instant.now().plus(timeout);
        SQLException last = null;
        while (Instant.now().isBefore(deadline)) {
            if (process != null && !process.isAlive()) {
                throw new IllegalStateException("postgres exited with " + process.exitValue() + ":\n" + read(log));
            }
            try (Connection ignored = connect("postgres")) {
                return;
            } catch (SQLException e) {
                last = e;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        close();
        throw new IllegalStateException("postgres did not accept connections within " + timeout + " ("
                + (last == null ? "" : last.getMessage()) + "):\n" + read(log));
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /** A JDBC connection to a database of this server. */
    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), user, password);
    }

    /** Creates a fresh, empty database and returns its name. */
    public String createDatabase() {
        String name = "berth_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16)
                .toLowerCase(Locale.ROOT);
        execute("CREATE DATABASE " + name);
        return name;
    }

    /** Drops a database, disconnecting whoever is still connected. */
    public void dropDatabase(String name) {
        execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }

    private void execute(String sql) {
        try (Connection c = connect("postgres"); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + " failed on " + host + ":" + port + ": " + e.getMessage(), e);
        }
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    /** {@code jdbc:postgresql://host:port/database}. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    /** The Quarkus reactive datasource URL, {@code postgresql://host:port/database}. */
    public String reactiveUrl(String database) {
        return "postgresql://" + host + ":" + port + "/" + database;
    }

    /** Whether this JVM started the server (and so may stop it). */
    public boolean isLocal() {
        return process != null;
    }

    /** Stops a server this JVM started (fast shutdown, SIGINT by PID) and deletes its directory. */
    @Override
    public synchronized void close() {
        if (process == null) {
            return;
        }
        if (process.isAlive()) {
            try {
                Processes.signal(process.pid(), "INT");
            } catch (IllegalStateException e) {
                process.destroy();
            }
            Processes.awaitExit(process, 30);
        }
        Processes.deleteRecursively(dataDir);
    }
}
