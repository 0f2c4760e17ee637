package dev.berth.image.domain;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.events.DomainException;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Image configs (the JSON whose sha256 is the image id) in Docker's layout, and the Dockerfile instructions that
 * {@code docker import --change} applies to them.
 */
public final class ImageConfigs {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    // Docker's validCommitCommands: the instructions a commit or import may apply
    private static final Set<String> CHANGES = Set.of("cmd", "entrypoint", "env", "expose", "label", "onbuild",
            "stopsignal", "user", "volume", "workdir");

    private ImageConfigs() {
    }

    /** An empty container config with Docker's fields in Docker's order. */
    public static ObjectNode emptyContainerConfig() {
        ObjectNode c = NODES.objectNode();
        c.put("Hostname", "");
        c.put("Domainname", "");
        c.put("User", "");
        c.put("AttachStdin", false);
        c.put("AttachStdout", false);
        c.put("AttachStderr", false);
        c.put("Tty", false);
        c.put("OpenStdin", false);
        c.put("StdinOnce", false);
        c.putNull("Env");
        c.putNull("Cmd");
        c.put("Image", "");
        c.putNull("Volumes");
        c.put("WorkingDir", "");
        c.putNull("Entrypoint");
        c.putNull("OnBuild");
        c.putNull("Labels");
        return c;
    }

    /**
     * Applies {@code --change} instructions to a container config.
     *
     * @throws DomainException 400 for an instruction import does not accept or one it cannot read
     */
    public static void applyChanges(ObjectNode config, List<String> changes) {
        for (String change : changes) {
            String line = change.strip();
            if (line.isEmpty()) {
                continue;
            }
            int space = indexOfSpace(line);
            String instruction = (space < 0 ? line : line.substring(0, space)).toLowerCase(Locale.ROOT);
            String args = space < 0 ? "" : line.substring(space + 1).strip();
            if (!CHANGES.contains(instruction)) {
                throw DomainException.badRequest(instruction + " is not a valid change command");
            }
            if (args.isEmpty()) {
                throw DomainException.badRequest(instruction.toUpperCase(Locale.ROOT) + " requires at least one argument");
            }
            switch (instruction) {
                case "cmd" -> config.set("Cmd", command(args));
                case "entrypoint" -> config.set("Entrypoint", command(args));
                case "env" -> env(config, args);
                case "expose" -> expose(config, args);
                case "label" -> label(config, args);
                case "onbuild" -> array(config, "OnBuild").add(args);
                case "stopsignal" -> config.put("StopSignal", args);
                case "user" -> config.put("User", args);
                case "volume" -> {
                    ObjectNode volumes = object(config, "Volumes");
                    for (String v : jsonOrWords(args)) {
                        volumes.set(v, NODES.objectNode());
                    }
                }
                case "workdir" -> {
                    String current = config.path("WorkingDir").asText("");
                    String dir = args.startsWith("/") ? args : (current.isEmpty() ? "/" : current) + "/" + args;
                    config.put("WorkingDir", dir.replaceAll("/+", "/"));
                }
                default -> throw new IllegalStateException(instruction);
            }
        }
    }

    /**
     * The config of an imported image, as Docker's {@code ImportImage} writes it.
     *
     * @return the exact bytes whose digest is the image id
     */
    public static byte[] importedConfig(ObjectNode containerConfig, String architecture, String os, String comment,
                                        Instant created, String diffId) {
        ObjectNode image = NODES.objectNode();
        if (comment != null && !comment.isEmpty()) {
            image.put("comment", comment);
        }
        image.put("created", created.toString());
        image.set("container_config", emptyContainerConfig());
        image.set("config", containerConfig);
        image.put("architecture", architecture);
        image.put("os", os);
        ObjectNode rootfs = image.putObject("rootfs");
        rootfs.put("type", "layers");
        rootfs.putArray("diff_ids").add(diffId);
        ObjectNode history = image.putArray("history").addObject();
        history.put("created", created.toString());
        if (comment != null && !comment.isEmpty()) {
            history.put("comment", comment);
        }
        try {
            return JSON.writeValueAsBytes(image);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Reads an image config.
     *
     * @throws DomainException 400 when it is not a JSON object
     */
    public static JsonNode read(byte[] config) {
        try {
            JsonNode node = JSON.readTree(config);
            if (node == null || !node.isObject()) {
                throw DomainException.badRequest("invalid image config: not a JSON object");
            }
            return node;
        } catch (java.io.IOException e) {
            throw DomainException.badRequest("invalid image config: " + e.getMessage());
        }
    }

    /** The diff ids an image config lists in {@code rootfs.diff_ids}. */
    public static List<String> diffIds(JsonNode image) {
        List<String> ids = new ArrayList<>();
        image.path("rootfs").path("diff_ids").forEach(n -> ids.add(n.asText()));
        return ids;
    }

    /** What a container takes from an image config. */
    public static ImageEvent.RuntimeConfig runtime(JsonNode image) {
        JsonNode c = image.path("config");
        return new ImageEvent.RuntimeConfig(text(c, "User"), convert(c.get("ExposedPorts"), new TypeReference<>() {
        }), convert(c.get("Env"), new TypeReference<>() {
        }), convert(c.get("Cmd"), new TypeReference<>() {
        }), convert(c.get("Volumes"), new TypeReference<>() {
        }), text(c, "WorkingDir"), convert(c.get("Entrypoint"), new TypeReference<>() {
        }), convert(c.get("Labels"), new TypeReference<Map<String, String>>() {
        }), text(c, "StopSignal"));
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static <T> T convert(JsonNode node, TypeReference<T> type) {
        if (node == null || node.isNull()) {
            return null;
        }
        return JSON.convertValue(node, type);
    }

    private static int indexOfSpace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    private static ArrayNode command(String args) {
        ArrayNode out = NODES.arrayNode();
        List<String> json = jsonArray(args);
        if (json != null) {
            json.forEach(out::add);
        } else {
            out.add("/bin/sh").add("-c").add(args);
        }
        return out;
    }

    private static List<String> jsonArray(String args) {
        if (!args.startsWith("[")) {
            return null;
        }
        try {
            return JSON.readValue(args, new TypeReference<List<String>>() {
            });
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private static List<String> jsonOrWords(String args) {
        List<String> json = jsonArray(args);
        return json != null ? json : List.of(args.split("\\s+"));
    }

    private static void env(ObjectNode config, String args) {
        List<String[]> pairs = pairs("ENV", args);
        ArrayNode env = array(config, "Env");
        for (String[] kv : pairs) {
            for (int i = 0; i < env.size(); i++) {
                if (env.get(i).asText().startsWith(kv[0] + "=")) {
                    env.remove(i);
                    break;
                }
            }
            env.add(kv[0] + "=" + kv[1]);
        }
    }

    private static void label(ObjectNode config, String args) {
        ObjectNode labels = object(config, "Labels");
        for (String[] kv : pairs("LABEL", args)) {
            labels.put(kv[0], kv[1]);
        }
    }

    private static void expose(ObjectNode config, String args) {
        ObjectNode ports = object(config, "ExposedPorts");
        for (String p : args.split("\\s+")) {
            String port = p.contains("/") ? p.toLowerCase(Locale.ROOT) : p + "/tcp";
            if (!port.matches("[0-9]{1,5}/(tcp|udp|sctp)")) {
                throw DomainException.badRequest("invalid containerPort: " + p);
            }
            ports.set(port, NODES.objectNode());
        }
    }

    /** {@code k=v k2="v 2"} or the legacy {@code k v...} form of ENV and LABEL. */
    private static List<String[]> pairs(String instruction, String args) {
        List<String> words = words(args, '\\');
        List<String[]> out = new ArrayList<>();
        if (!words.get(0).contains("=")) {
            int space = indexOfSpace(args);
            if (space < 0) {
                throw DomainException.badRequest(instruction + " must have two arguments");
            }
            out.add(new String[]{unquote(args.substring(0, space)), unquote(args.substring(space + 1).strip())});
            return out;
        }
        for (String w : words) {
            int eq = w.indexOf('=');
            if (eq <= 0) {
                throw DomainException.badRequest("Syntax error - can't find = in \"" + w
                        + "\". Must be of the form: name=value");
            }
            out.add(new String[]{unquote(w.substring(0, eq)), unquote(w.substring(eq + 1))});
        }
        return out;
    }

    /**
     * Splits Dockerfile arguments at unquoted whitespace, keeping quotes and escapes in the words for a later
     * unquoting (or substitution) step. As in Docker's shell lexer, the escape character keeps the next character
     * in the word outside single quotes and is literal inside them. Used by the builder (with the Dockerfile's
     * {@code # escape=} character) and by {@code --change} of import and commit (with a backslash).
     */
    public static List<String> words(String s, char escape) {
        List<String> out = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (quote == 0 && Character.isWhitespace(ch)) {
                if (w.length() > 0) {
                    out.add(w.toString());
                    w.setLength(0);
                }
                continue;
            }
            if (ch == escape && i + 1 < s.length() && quote != '\'') {
                w.append(ch).append(s.charAt(++i));
                continue;
            }
            if (quote == 0 && (ch == '"' || ch == '\'')) {
                quote = ch;
            } else if (ch == quote) {
                quote = 0;
            }
            w.append(ch);
        }
        if (w.length() > 0) {
            out.add(w.toString());
        }
        return out;
    }

    private static String unquote(String s) {
        StringBuilder out = new StringBuilder();
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '\\' && i + 1 < s.length() && quote != '\'') {
                out.append(s.charAt(++i));
            } else if (quote == 0 && (ch == '"' || ch == '\'')) {
                quote = ch;
            } else if (ch == quote) {
                quote = 0;
            } else {
                out.append(ch);
            }
        }
        return out.toString();
    }

    private static ArrayNode array(ObjectNode config, String field) {
        JsonNode v = config.get(field);
        if (v instanceof ArrayNode a) {
            return a;
        }
        return config.putArray(field);
    }

    private static ObjectNode object(ObjectNode config, String field) {
        JsonNode v = config.get(field);
        if (v instanceof ObjectNode o) {
            return o;
        }
        return config.putObject(field);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
