package dev.berth.node.messaging;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class OutboxTest {
    @TempDir
    Path dir;

    private static Outbox.Draft draft(String key) {
        return new Outbox.Draft("berth.nodes.events", key, Map.of("ce_id", key, "ce_sequence", "0"), "{\"k\":\"" + key + "\"}");
    }

    @Test
    void recordsSurviveARestartUntilAcknowledgedAndKeepTheirOrderAndSequence() throws Exception {
        Path file = dir.resolve("outbox.log");
        try (Outbox o = new Outbox(file)) {
            List<Outbox.Entry> made = o.append(List.of(draft("a"), draft("b")));
            o.append(List.of(draft("c")));
            assertThat(made).extracting(Outbox.Entry::seq).containsExactly(1L, 2L);
            assertThat(made.get(1).headers()).containsEntry("ce_sequence", "2");
            o.acknowledge(1);
        }
        try (Outbox o = new Outbox(file)) {
            assertThat(o.pending(10)).extracting(Outbox.Entry::key).containsExactly("b", "c");
            o.acknowledge(3);
            assertThat(o.pendingCount()).isZero();
            // cut back to one line that keeps the counter
            assertThat(Files.readAllLines(file)).containsExactly("{\"ack\":3}");
        }
        try (Outbox o = new Outbox(file)) {
            assertThat(o.append(List.of(draft("d"))).get(0).seq()).isEqualTo(4);
        }
    }

    @Test
    void aTornLastLineIsIgnored() throws Exception {
        Path file = dir.resolve("outbox.log");
        try (Outbox o = new Outbox(file)) {
            o.append(List.of(draft("a")));
        }
        Files.writeString(file, "{\"seq\":2,\"topic\":\"berth.nod", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        try (Outbox o = new Outbox(file)) {
            assertThat(o.pending(10)).extracting(Outbox.Entry::key).containsExactly("a");
        }
    }

    @Test
    void processedCommandsAreRememberedAcrossRestartsAndTrimmedToTheNewest() throws Exception {
        Path file = dir.resolve("processed");
        try (ProcessedCommands p = new ProcessedCommands(file, 2)) {
            for (String id : List.of("1", "2", "3", "4", "5")) {
                p.add(id);
            }
        }
        try (ProcessedCommands p = new ProcessedCommands(file, 2)) {
            assertThat(p.contains("5")).isTrue();
            assertThat(p.contains("4")).isTrue();
            assertThat(p.contains("1")).isFalse();
        }
    }
}
