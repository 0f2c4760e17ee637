package dev.berth.node.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The json-file log: Docker's format, streams apart, follow, rotation, tail, since. */
class LogsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private RuntimeFixture fx;
    private Path rootfs;

    @BeforeEach
    void setUp() throws Exception {
        fx = new RuntimeFixture();
        rootfs = fx.rootfs();
    }

    @AfterEach
    void tearDown() throws Exception {
        fx.close();
    }

    private Path logFile(String id) {
        return fx.stateRoot.resolve("containers").resolve(id).resolve(id + "-json.log");
    }

    @Test
    void fileIsDockersJsonFileFormat() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "echo out; echo err >&2; printf 'tab\\tquote\" <b>&\\001'").build());
        List<String> lines = Files.readAllLines(logFile(r.id()));
        assertThat(lines).hasSize(3);
        for (String line : lines) {
            JsonNode n = JSON.readTree(line);
            assertThat(n.fieldNames()).toIterable().containsExactly("log", "stream", "time");
            assertThat(Instant.parse(n.get("time").asText())).isBetween(r.state().startedAt(), r.state().finishedAt());
        }
        assertThat(JSON.readTree(lines.get(0)).get("log").asText()).isEqualTo("out\n");
        // Go's encoder: HTML characters and control bytes as \\u escapes; a last line without newline kept as it is.
        assertThat(lines.get(2)).startsWith("{\"log\":\"tab\\tquote\\\" \\u003cb\\u003e\\u0026\\u0001\",\"stream\":\"stdout\"");
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("{\"log\":\"err\\n\",\"stream\":\"stderr\",\"time\":\""));
    }

    @Test
    void streamsCanBeReadApart() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "echo o1; echo e1 >&2; echo o2").build());
        List<String> out = new ArrayList<>(), err = new ArrayList<>();
        fx.runtime.logs(r.id(), LogOptions.ALL.withStreams(true, false), e -> out.add(e.log()));
        fx.runtime.logs(r.id(), LogOptions.ALL.withStreams(false, true), e -> err.add(e.stream() + ":" + e.log()));
        assertThat(out).containsExactly("o1\n", "o2\n");
        assertThat(err).containsExactly("stderr:e1\n");
    }

    @Test
    void followReadsWhileRunningAndEndsWithTheContainer() throws Exception {
        String id = RuntimeFixture.newId();
        // The container waits for the follower to have seen the first line before it writes the second.
        fx.runtime.create(id, fx.sh(rootfs, "echo first; until [ -f /tmp/seen ]; do sleep 0.05; done; echo second; exit 2").build());
        fx.runtime.start(id);
        List<LogEntry> seen = new ArrayList<>();
        fx.runtime.logs(id, LogOptions.ALL.withFollow(true), e -> {
            seen.add(e);
            if (e.log().equals("first\n")) {
                try {
                    Files.writeString(rootfs.resolve("tmp/seen"), "");
                } catch (java.io.IOException ex) {
                    throw new java.io.UncheckedIOException(ex);
                }
            }
            return true;
        });
        assertThat(seen).extracting(LogEntry::log).containsExactly("first\n", "second\n");
        assertThat(fx.runtime.state(id).exitCode()).isEqualTo(2);
        assertThat(seen.get(0).timestamp()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z");
    }

    @Test
    void followerCanStopEarly() throws Exception {
        String id = RuntimeFixture.newId();
        fx.runtime.create(id, fx.sh(rootfs, "while true; do echo tick; sleep 0.05; done").build());
        fx.runtime.start(id);
        List<String> seen = new ArrayList<>();
        fx.runtime.logs(id, LogOptions.ALL.withFollow(true), e -> {
            seen.add(e.log());
            return seen.size() < 3;
        });
        assertThat(seen).containsExactly("tick\n", "tick\n", "tick\n");
        assertThat(fx.runtime.state(id).running()).isTrue();
    }

    @Test
    void rotatesBySizeKeepingMaxFiles() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done")
                .log(2000, 3).build());
        Path log = logFile(r.id());
        assertThat(log).exists();
        assertThat(log.resolveSibling(log.getFileName() + ".1")).exists();
        assertThat(log.resolveSibling(log.getFileName() + ".2")).exists();
        assertThat(log.resolveSibling(log.getFileName() + ".3")).doesNotExist();
        for (String suffix : List.of("", ".1", ".2")) {
            assertThat(Files.size(log.resolveSibling(log.getFileName() + suffix))).isLessThanOrEqualTo(2000);
        }
        List<String> all = new ArrayList<>();
        fx.runtime.logs(r.id(), LogOptions.ALL, e -> all.add(e.log().trim()));
        // The newest lines survive, in order and without gaps.
        assertThat(all).isNotEmpty().endsWith("line-299");
        int first = Integer.parseInt(all.get(0).substring(5));
        assertThat(first).isPositive();
        for (int i = 0; i < all.size(); i++) {
            assertThat(all.get(i)).isEqualTo("line-" + (first + i));
        }
    }

    @Test
    void tailAndSince() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "echo a; echo b; echo c; echo d").build());
        List<String> tail = new ArrayList<>();
        fx.runtime.logs(r.id(), LogOptions.ALL.withTail(2), e -> tail.add(e.log()));
        assertThat(tail).containsExactly("c\n", "d\n");
        List<LogEntry> all = new ArrayList<>();
        fx.runtime.logs(r.id(), LogOptions.ALL, all::add);
        List<String> since = new ArrayList<>();
        fx.runtime.logs(r.id(), LogOptions.ALL.withSince(all.get(2).time()), e -> since.add(e.log()));
        assertThat(since).containsExactly("c\n", "d\n");
        List<String> none = new ArrayList<>();
        fx.runtime.logs(r.id(), LogOptions.ALL.withTail(0), e -> none.add(e.log()));
        assertThat(none).isEmpty();
    }

    @Test
    void longLinesAreSplitAt16KiB() throws Exception {
        RuntimeFixture.Run r = fx.run(fx.sh(rootfs, "head -c 40000 /dev/zero | tr '\\0' x; echo").build());
        List<String> entries = new ArrayList<>();
        fx.runtime.logs(r.id(), LogOptions.ALL, e -> entries.add(e.log()));
        assertThat(entries).extracting(String::length).containsExactly(16384, 16384, 7233);
        assertThat(String.join("", entries).equals("x".repeat(40000) + "\n")).as("content kept").isTrue();
        assertThat(fx.runtime.waitForExit(r.id(), Duration.ofSeconds(5)).exitCode()).isZero();
    }
}
