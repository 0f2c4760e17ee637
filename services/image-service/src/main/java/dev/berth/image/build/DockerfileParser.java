package dev.berth.image.build;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a Dockerfile the way Docker's parser does: parser directives at the top ({@code # syntax=}, {@code # escape=}),
 * comments, line continuations with the escape character (empty and comment lines inside a continuation are dropped),
 * case-insensitive instruction names, leading {@code --flag=value} words, and the JSON (exec) form. Pure: no I/O.
 */
public final class DockerfileParser {

    /** The instructions Docker knows. */
    public static final Set<String> KEYWORDS = Set.of("add", "arg", "cmd", "copy", "entrypoint", "env", "expose",
            "from", "healthcheck", "label", "maintainer", "onbuild", "run", "shell", "stopsignal", "user", "volume",
            "workdir");
    // the flags each instruction declares; any other flag is "Unknown flag", as Docker's BFlags parse says
    private static final Map<String, Set<String>> FLAGS = Map.of(
            "from", Set.of("platform"),
            "copy", Set.of("from", "chown", "chmod", "link"),
            "add", Set.of("chown", "chmod", "link", "checksum", "keep-git-dir"),
            "run", Set.of("mount", "network", "security"),
            "healthcheck", Set.of("interval", "timeout", "start-period", "start-interval", "retries"));
    private static final Pattern DIRECTIVE = Pattern.compile("^#\\s*([a-zA-Z][a-zA-Z0-9]*)\\s*=\\s*(.+?)\\s*$");
    private static final ObjectMapper JSON = new ObjectMapper();

    private DockerfileParser() {
    }

    /**
     * A parsed Dockerfile.
     *
     * @param instructions every instruction in order
     * @param escape       the escape character ({@code \} unless {@code # escape=`})
     * @param directives   the parser directives found at the top, by lower-case name
     */
    public record Dockerfile(List<Instruction> instructions, char escape, Map<String, String> directives) {
    }

    /**
     * Parses a Dockerfile.
     *
     * @throws BuildException 400 {@code Dockerfile parse error line N: ...} for an unknown instruction, an unknown
     *                        flag, a bad escape directive; {@code the Dockerfile cannot be empty} when it has none
     */
    public static Dockerfile parse(String text) {
        String[] lines = text.replace("\r\n", "\n").replace('\r', '\n').split("\n", -1);
        if (lines.length > 0 && lines[0].startsWith("\uFEFF")) {
            lines[0] = lines[0].substring(1);
        }
        char escape = '\\';
        Map<String, String> directives = new LinkedHashMap<>();
        boolean lookingForDirectives = true;
        List<Instruction> out = new ArrayList<>();
        int i = 0;
        while (i < lines.length) {
            String raw = lines[i];
            int lineNo = i + 1;
            i++;
            if (lookingForDirectives) {
                Matcher m = DIRECTIVE.matcher(raw.strip());
                if (m.matches()) {
                    String name = m.group(1).toLowerCase(Locale.ROOT);
                    if ((name.equals("escape") || name.equals("syntax") || name.equals("check"))
                            && !directives.containsKey(name)) {
                        directives.put(name, m.group(2));
                        if (name.equals("escape")) {
                            String v = m.group(2);
                            if (!v.equals("`") && !v.equals("\\")) {
                                throw BuildException.parse(lineNo, "invalid escape token '" + v
                                        + "' does not match ` or \\");
                            }
                            escape = v.charAt(0);
                        }
                        continue;
                    }
                }
                lookingForDirectives = false;
            }
            String line = raw.stripLeading();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            StringBuilder joined = new StringBuilder();
            String part = line;
            while (true) {
                String continued = continuation(part, escape);
                if (continued == null) {
                    joined.append(part.stripTrailing());
                    break;
                }
                joined.append(continued);
                // read the next line that is neither empty nor a comment
                String next = null;
                while (i < lines.length) {
                    String candidate = lines[i++];
                    String s = candidate.stripLeading();
                    if (s.isEmpty() || s.startsWith("#")) {
                        continue;
                    }
                    next = candidate;
                    break;
                }
                if (next == null) {
                    break;
                }
                part = next;
            }
            out.add(instruction(lineNo, joined.toString().strip()));
        }
        if (out.isEmpty()) {
            throw new BuildException("the Dockerfile (Dockerfile) cannot be empty");
        }
        return new Dockerfile(Collections.unmodifiableList(out), escape, Collections.unmodifiableMap(directives));
    }

    /** The line without its trailing escape character (and the blanks after it), or null when it does not continue. */
    private static String continuation(String line, char escape) {
        String s = line.stripTrailing();
        if (s.isEmpty() || s.charAt(s.length() - 1) != escape) {
            return null;
        }
        return s.substring(0, s.length() - 1);
    }

    private static Instruction instruction(int line, String text) {
        int space = firstSpace(text);
        String word = space < 0 ? text : text.substring(0, space);
        String keyword = word.toLowerCase(Locale.ROOT);
        if (!KEYWORDS.contains(keyword)) {
            throw BuildException.parse(line, "unknown instruction: " + word.toUpperCase(Locale.ROOT));
        }
        String rest = space < 0 ? "" : text.substring(space).strip();
        Map<String, String> flags = new LinkedHashMap<>();
        // ONBUILD keeps its trigger whole; its own flags belong to the trigger instruction
        while (!keyword.equals("onbuild") && rest.startsWith("--")) {
            int end = firstSpace(rest);
            String flag = end < 0 ? rest : rest.substring(0, end);
            rest = end < 0 ? "" : rest.substring(end).strip();
            if (flag.equals("--")) {
                break;
            }
            int eq = flag.indexOf('=');
            String name = eq < 0 ? flag.substring(2) : flag.substring(2, eq);
            String value = eq < 0 ? "true" : flag.substring(eq + 1);
            if (!FLAGS.getOrDefault(keyword, Set.of()).contains(name)) {
                throw BuildException.parse(line, "Unknown flag: " + name);
            }
            if (flags.containsKey(name)) {
                throw BuildException.parse(line, "Duplicate flag specified: " + name);
            }
            flags.put(name, value);
        }
        return new Instruction(line, keyword, text, Collections.unmodifiableMap(flags), rest, json(rest));
    }

    /** The exec form: a JSON array of strings; anything else (even starting with {@code [}) is the shell form. */
    static List<String> json(String args) {
        if (!args.startsWith("[") || !args.endsWith("]")) {
            return null;
        }
        try {
            var node = JSON.readTree(args);
            if (node == null || !node.isArray()) {
                return null;
            }
            List<String> list = new ArrayList<>();
            for (var element : node) {
                if (!element.isTextual()) {
                    return null;
                }
                list.add(element.asText());
            }
            return List.copyOf(list);
        } catch (Exception e) {
            return null;
        }
    }

    private static int firstSpace(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isWhitespace(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }
}
