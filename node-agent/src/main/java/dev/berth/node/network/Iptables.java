package dev.berth.node.network;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Berth's packet-filter rules, driven through the host's iptables (nft or legacy flavour, as the host's existing
 * rules use). Every rule Berth adds lives in its own chains, reached by one jump rule per built-in chain, so that
 * removal is exact and rules of other software (a Docker daemon, a firewall) are never touched. Per-container rules
 * carry the comment {@code berth:<containerId>} and are removed by it.
 */
final class Iptables {
    private final String binary;
    private final String restore;

    /** One rule change: {@code op} is {@code -A} (append) or {@code -D} (delete). */
    record Change(String table, String op, String chain, List<String> rule) {
    }

    Iptables(String binary) {
        this.binary = binary;
        this.restore = restoreFor(binary);
    }

    /** The iptables-restore of the same flavour ({@code iptables-nft} → {@code iptables-nft-restore}), or null. */
    private static String restoreFor(String binary) {
        String candidate = binary + "-restore";
        if (candidate.contains("/")) {
            return Files.isRegularFile(Path.of(candidate)) && Files.isExecutable(Path.of(candidate)) ? candidate : null;
        }
        return Commands.locate(candidate);
    }

    /**
     * The iptables to use: {@code override} when given; otherwise the flavour (nft or legacy) that holds more of the
     * host's existing rules, because rules in the other one would be evaluated apart from them (as Kubernetes'
     * iptables-wrapper decides); on a tie the system's {@code iptables}.
     */
    static Iptables detect(String override) throws IOException {
        if (override != null && !override.isBlank()) {
            return new Iptables(override);
        }
        String legacySave = Commands.locate("iptables-legacy-save");
        String nftSave = Commands.locate("iptables-nft-save");
        if (legacySave != null && nftSave != null) {
            int legacy = countRules(legacySave);
            int nft = countRules(nftSave);
            if (legacy > nft && Commands.locate("iptables-legacy") != null) {
                return new Iptables(Commands.locate("iptables-legacy"));
            }
            if (nft > legacy && Commands.locate("iptables-nft") != null) {
                return new Iptables(Commands.locate("iptables-nft"));
            }
        }
        return new Iptables(Commands.require("iptables", "iptables"));
    }

    private static int countRules(String saveBinary) {
        try {
            Commands.Result r = Commands.exec(List.of(saveBinary), null);
            if (!r.ok()) {
                return 0;
            }
            return (int) r.stdout().lines().filter(l -> l.startsWith("-A ")).count();
        } catch (IOException e) {
            return 0;
        }
    }

    String binary() {
        return binary;
    }

    private List<String> command(String table, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary);
        // wait for the xtables lock instead of failing when another tool holds it
        cmd.add("-w");
        cmd.add("-t");
        cmd.add(table);
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static List<String> concat(List<String> head, List<String> tail) {
        List<String> all = new ArrayList<>(head);
        all.addAll(tail);
        return all;
    }

    void ensureChain(String table, String chain) throws IOException {
        Commands.Result r = Commands.exec(command(table, "-N", chain), null);
        if (!r.ok() && !r.stderr().contains("already exists")) {
            throw new IOException(r.describe());
        }
    }

    boolean exists(String table, String chain, List<String> rule) throws IOException {
        return Commands.exec(concat(command(table, "-C", chain), rule), null).ok();
    }

    /** Adds the rule unless it is there; {@code first} puts it at the head of the chain. */
    void ensureRule(String table, String chain, List<String> rule, boolean first) throws IOException {
        if (exists(table, chain, rule)) {
            return;
        }
        List<String> head = first ? command(table, "-I", chain, "1") : command(table, "-A", chain);
        Commands.run(concat(head, rule), null);
    }

    void append(String table, String chain, List<String> rule) throws IOException {
        Commands.run(concat(command(table, "-A", chain), rule), null);
    }

    /**
     * Applies the changes with one {@code iptables-restore --noflush} (each table committed at once, so a port is
     * never half published), or one call per change when the host has no matching iptables-restore. Fails, naming
     * the command and iptables' message, if any change fails (e.g. deleting a rule that is not there).
     */
    void apply(List<Change> changes) throws IOException {
        if (changes.isEmpty()) {
            return;
        }
        if (restore == null) {
            for (Change c : changes) {
                Commands.run(concat(command(c.table(), c.op(), c.chain()), c.rule()), null);
            }
            return;
        }
        Map<String, StringBuilder> tables = new LinkedHashMap<>();
        for (Change c : changes) {
            StringBuilder sb = tables.computeIfAbsent(c.table(), t -> new StringBuilder());
            sb.append(c.op()).append(' ').append(c.chain());
            for (String token : c.rule()) {
                sb.append(' ').append(quote(token));
            }
            sb.append('\n');
        }
        StringBuilder input = new StringBuilder();
        tables.forEach((table, lines) -> input.append('*').append(table).append('\n').append(lines).append("COMMIT\n"));
        Commands.run(List.of(restore, "-w", "--noflush"), input.toString());
    }

    private static String quote(String token) {
        if (!token.isEmpty() && token.chars().noneMatch(ch -> Character.isWhitespace(ch) || ch == '"' || ch == '\\')) {
            return token;
        }
        return '"' + token.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /** Deletes every copy of the rule; nothing happens if there is none or the chain is gone. */
    void deleteRule(String table, String chain, List<String> rule) throws IOException {
        while (exists(table, chain, rule)) {
            Commands.run(concat(command(table, "-D", chain), rule), null);
        }
    }

    /** The rules of a chain as {@code -A chain ...} lines; empty when the chain does not exist. */
    List<String> rules(String table, String chain) throws IOException {
        Commands.Result r = Commands.exec(command(table, "-S", chain), null);
        if (!r.ok()) {
            if (isNoChain(r)) {
                return List.of();
            }
            throw new IOException(r.describe());
        }
        return r.stdout().lines().filter(l -> l.startsWith("-A ")).toList();
    }

    /** Deletes the rules of {@code chain} whose comment is exactly {@code comment}. */
    void deleteTagged(String table, String chain, String comment) throws IOException {
        for (String line : rules(table, chain)) {
            List<String> tokens = tokenize(line);
            int i = tokens.indexOf("--comment");
            if (i < 0 || i + 1 >= tokens.size() || !tokens.get(i + 1).equals(comment)) {
                continue;
            }
            List<String> spec = tokens.subList(2, tokens.size());
            Commands.Result r = Commands.exec(concat(command(table, "-D", chain), spec), null);
            if (!r.ok() && !isNoRule(r)) {
                throw new IOException(r.describe());
            }
        }
    }

    /** Flushes and deletes the chain; nothing happens if it is gone. */
    void removeChain(String table, String chain) throws IOException {
        for (String op : List.of("-F", "-X")) {
            Commands.Result r = Commands.exec(command(table, op, chain), null);
            if (!r.ok() && !isNoChain(r)) {
                throw new IOException(r.describe());
            }
        }
    }

    private static boolean isNoChain(Commands.Result r) {
        String e = r.stderr();
        return e.contains("No chain/target/match by that name") || e.contains("does not exist");
    }

    private static boolean isNoRule(Commands.Result r) {
        String e = r.stderr();
        return isNoChain(r) || e.contains("does a matching rule exist") || e.contains("Bad rule");
    }

    /** Splits an {@code iptables -S} line into arguments, honouring the double quotes iptables puts around comments. */
    static List<String> tokenize(String line) {
        List<String> tokens = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        boolean inToken = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '\\' && i + 1 < line.length()) {
                    cur.append(line.charAt(++i));
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                quoted = true;
                inToken = true;
            } else if (Character.isWhitespace(c)) {
                if (inToken) {
                    tokens.add(cur.toString());
                    cur.setLength(0);
                    inToken = false;
                }
            } else {
                cur.append(c);
                inToken = true;
            }
        }
        if (inToken) {
            tokens.add(cur.toString());
        }
        return tokens;
    }
}
