package dev.berth.testing;

import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PostgresServerTest {

    @Test
    void startsAThrowawayServerWithIsolatedDatabasesAndStopsItByPid() throws Exception {
        PostgresServer server = PostgresServer.startLocal();
        long pid;
        try {
            String a = server.createDatabase();
            String b = server.createDatabase();
            assertThat(a).isNotEqualTo(b);
            try (Connection c = server.connect(a); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t (x int)");
                s.execute("INSERT INTO t VALUES (42)");
                try (ResultSet rs = s.executeQuery("SELECT x, current_user, version() FROM t")) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(42);
                    assertThat(rs.getString(2)).isEqualTo("postgres");
                }
                try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid(), (SELECT usename FROM pg_user LIMIT 1)")) {
                    assertThat(rs.next()).isTrue();
                }
            }
            try (Connection c = server.connect(b); Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.executeQuery("SELECT * FROM t")).hasMessageContaining("\"t\"");
            }
            server.dropDatabase(a);
            assertThatThrownBy(() -> server.connect(a).close()).hasMessageContaining(a);
            pid = ProcessHandle.allProcesses()
                    .filter(p -> p.info().command().map(cmd -> cmd.endsWith("/postgres")).orElse(false))
                    .filter(p -> p.info().arguments().map(args -> String.join(" ", args)
                            .contains("-p " + server.port())).orElse(false))
                    .findFirst().orElseThrow().pid();
            if (Processes.isRoot()) {
                assertThat(ProcessHandle.of(pid).orElseThrow().info().user()).contains("postgres");
            }
        } finally {
            server.close();
        }
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    }
}
