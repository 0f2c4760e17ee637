package dev.berth.image.build;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code .dockerignore} as Docker's pattern matcher reads it: one pattern per line, {@code #} comments, patterns
 * cleaned like Go's {@code filepath.Clean} with a leading {@code /} dropped, Go {@code filepath.Match} syntax
 * ({@code *}, {@code ?}, {@code [...]}, {@code \} escapes) plus {@code **} for any number of directories, and
 * {@code !} exceptions. The last pattern that matches a path (or one of its parent directories) decides.
 */
public final class DockerIgnore {

    private record Rule(Pattern pattern, boolean exclusion) {
    }

    private final List<Rule> rules;

    private DockerIgnore(List<Rule> rules) {
        this.rules = rules;
    }

    /** Nothing is ignored. */
    public static final DockerIgnore NONE = new DockerIgnore(List.of());

    /**
     * Reads a {@code .dockerignore}.
     *
     * @throws BuildException 400 for a pattern that is only {@code !} or has a bad character class
     */
    public static DockerIgnore parse(String content) {
        List<Rule> rules = new ArrayList<>();
        for (String raw : content.split("\r?\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            boolean exclusion = line.startsWith("!");
            if (exclusion) {
                line = line.substring(1).strip();
                if (line.isEmpty()) {
                    throw new BuildException("illegal exclusion pattern: \"!\"");
                }
            }
            String cleaned = clean(line);
            if (cleaned.equals(".")) {
                // "." and "/" name the whole context: Docker matches nothing with them
                continue;
            }
            rules.add(new Rule(regex(cleaned), exclusion));
        }
        return new DockerIgnore(List.copyOf(rules));
    }

    /** Whether a context path ({@code a/b.txt}, slash separated, no leading {@code ./}) is left out. */
    public boolean ignored(String path) {
        String p = clean(path);
        boolean ignored = false;
        for (Rule r : rules) {
            if (matchesOrParent(r.pattern(), p)) {
                ignored = !r.exclusion();
            }
        }
        return ignored;
    }

    /** Whether some exception pattern could re-include something below a directory that is itself ignored. */
    public boolean hasExceptions() {
        return rules.stream().anyMatch(Rule::exclusion);
    }

    private static boolean matchesOrParent(Pattern pattern, String path) {
        if (pattern.matcher(path).matches()) {
            return true;
        }
        int slash = path.lastIndexOf('/');
        while (slash > 0) {
            path = path.substring(0, slash);
            if (pattern.matcher(path).matches()) {
                return true;
            }
            slash = path.lastIndexOf('/');
        }
        return false;
    }

    /** Go's {@code filepath.Clean} of a slash path, without the leading slash. */
    static String clean(String path) {
        List<String> parts = new ArrayList<>();
        for (String s : path.split("/")) {
            if (s.isEmpty() || s.equals(".")) {
                continue;
            }
            if (s.equals("..")) {
                if (!parts.isEmpty()) {
                    parts.remove(parts.size() - 1);
                }
                continue;
            }
            parts.add(s);
        }
        return parts.isEmpty() ? "." : String.join("/", parts);
    }

    private static Pattern regex(String pattern) {
        StringBuilder re = new StringBuilder();
        int n = pattern.length();
        for (int i = 0; i < n; i++) {
            char ch = pattern.charAt(i);
            switch (ch) {
                case '*' -> {
                    if (i + 1 < n && pattern.charAt(i + 1) == '*') {
                        i++;
                        if (i + 1 < n && pattern.charAt(i + 1) == '/') {
                            // "**/" is zero or more whole directories
                            i++;
                            re.append("(?:.*/)?");
                        } else {
                            re.append(".*");
                        }
                    } else {
                        re.append("[^/]*");
                    }
                }
                case '?' -> re.append("[^/]");
                case '\\' -> {
                    if (i + 1 < n) {
                        re.append(Pattern.quote(String.valueOf(pattern.charAt(++i))));
                    }
                }
                case '[' -> {
                    int end = pattern.indexOf(']', i + 2);
                    if (end < 0) {
                        throw new BuildException("syntax error in pattern: " + pattern);
                    }
                    String body = pattern.substring(i + 1, end);
                    if (body.startsWith("^") || body.startsWith("!")) {
                        body = "^" + body.substring(1);
                    }
                    re.append('[').append(body.replace("\\", "\\\\").replace("[", "\\[")).append(']');
                    i = end;
                }
                default -> re.append(Pattern.quote(String.valueOf(ch)));
            }
        }
        try {
            return Pattern.compile(re.toString());
        } catch (RuntimeException e) {
            throw new BuildException("syntax error in pattern: " + pattern);
        }
    }
}
