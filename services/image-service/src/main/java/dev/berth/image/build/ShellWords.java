package dev.berth.image.build;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Docker's word processing for the instructions it substitutes in (FROM, COPY, ADD, ENV, ARG, LABEL, EXPOSE, VOLUME,
 * USER, WORKDIR, STOPSIGNAL): {@code $x}, {@code ${x}}, {@code ${x:-default}}, {@code ${x:+alternative}},
 * {@code ${x-default}}, {@code ${x+alternative}}, {@code ${x:?message}}; single quotes keep text literal, double quotes
 * allow substitution, the escape character keeps the next character literal. Quotes are removed.
 */
public final class ShellWords {

    private final String text;
    private final Function<String, String> env;
    private final char escape;
    private int pos;

    private ShellWords(String text, Function<String, String> env, char escape) {
        this.text = text;
        this.env = env;
        this.escape = escape;
    }

    /**
     * One word: substitutions done, quotes and escapes removed, whitespace kept.
     *
     * @param env the value of a variable, or null when it is not set
     * @throws BuildException for an unterminated quote or brace, a bad modifier, or a {@code ${x:?message}} unset
     */
    public static String word(String text, Function<String, String> env, char escape) {
        ShellWords w = new ShellWords(text, env, escape);
        List<String> out = w.process(false);
        return out.isEmpty() ? "" : out.get(0);
    }

    /** Words split at unquoted whitespace, each processed as {@link #word}. */
    public static List<String> words(String text, Function<String, String> env, char escape) {
        return new ShellWords(text, env, escape).process(true);
    }

    private List<String> process(boolean split) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        while (pos < text.length()) {
            char ch = text.charAt(pos);
            if (split && Character.isWhitespace(ch)) {
                pos++;
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
                continue;
            }
            inWord = true;
            if (ch == escape) {
                pos++;
                if (pos < text.length()) {
                    word.append(text.charAt(pos++));
                }
            } else if (ch == '\'') {
                pos++;
                word.append(singleQuoted());
            } else if (ch == '"') {
                pos++;
                word.append(doubleQuoted());
            } else if (ch == '$') {
                pos++;
                String value = dollar();
                if (split && !value.isEmpty() && value.chars().anyMatch(Character::isWhitespace)) {
                    // an unquoted variable's value is split into words, as a shell would
                    String[] parts = value.split("\\s+", -1);
                    for (int i = 0; i < parts.length; i++) {
                        if (i > 0) {
                            if (word.length() > 0) {
                                words.add(word.toString());
                            }
                            word.setLength(0);
                        }
                        word.append(parts[i]);
                    }
                } else {
                    word.append(value);
                }
            } else {
                word.append(ch);
                pos++;
            }
        }
        if (inWord || !split) {
            words.add(word.toString());
        }
        return words;
    }

    private String singleQuoted() {
        int end = text.indexOf('\'', pos);
        if (end < 0) {
            throw new BuildException("unexpected end of statement while looking for matching single-quote");
        }
        String s = text.substring(pos, end);
        pos = end + 1;
        return s;
    }

    private String doubleQuoted() {
        StringBuilder out = new StringBuilder();
        while (pos < text.length()) {
            char ch = text.charAt(pos);
            if (ch == '"') {
                pos++;
                return out.toString();
            }
            if (ch == '$') {
                pos++;
                out.append(dollar());
            } else if (ch == escape && pos + 1 < text.length()
                    && (text.charAt(pos + 1) == '"' || text.charAt(pos + 1) == '$' || text.charAt(pos + 1) == escape)) {
                out.append(text.charAt(pos + 1));
                pos += 2;
            } else {
                out.append(ch);
                pos++;
            }
        }
        throw new BuildException("unexpected end of statement while looking for matching double-quote");
    }

    /** After a {@code $}: the substituted value, or {@code $} itself when no name follows. */
    private String dollar() {
        if (pos >= text.length()) {
            return "$";
        }
        char ch = text.charAt(pos);
        if (ch == '{') {
            pos++;
            return braced();
        }
        String name = name();
        if (name.isEmpty()) {
            return "$";
        }
        String v = env.apply(name);
        return v == null ? "" : v;
    }

    private String name() {
        int start = pos;
        while (pos < text.length() && (Character.isLetterOrDigit(text.charAt(pos)) || text.charAt(pos) == '_')) {
            pos++;
        }
        return text.substring(start, pos);
    }

    private String braced() {
        String name = name();
        if (pos >= text.length()) {
            throw new BuildException("missing '}' in substitution");
        }
        if (name.isEmpty()) {
            throw new BuildException("bad substitution: ${" + text.substring(pos) + " has no variable name");
        }
        char ch = text.charAt(pos);
        if (ch == '}') {
            pos++;
            String v = env.apply(name);
            return v == null ? "" : v;
        }
        boolean colon = ch == ':';
        if (colon) {
            pos++;
        }
        if (pos >= text.length()) {
            throw new BuildException("missing '}' in substitution");
        }
        char modifier = text.charAt(pos++);
        String word = untilBrace();
        String v = env.apply(name);
        boolean set = colon ? v != null && !v.isEmpty() : v != null;
        return switch (modifier) {
            case '-' -> set ? v : word;
            case '+' -> set ? word : "";
            case '?' -> {
                if (!set) {
                    throw new BuildException(name + ": " + (word.isEmpty() ? "is not allowed to be unset" : word));
                }
                yield v;
            }
            default -> throw new BuildException("unsupported modifier (" + modifier + ") in substitution");
        };
    }

    /** The word of a modifier, substituted, up to the matching {@code }}. */
    private String untilBrace() {
        StringBuilder out = new StringBuilder();
        while (pos < text.length()) {
            char ch = text.charAt(pos);
            if (ch == '}') {
                pos++;
                return out.toString();
            }
            if (ch == escape && pos + 1 < text.length()) {
                out.append(text.charAt(pos + 1));
                pos += 2;
            } else if (ch == '\'') {
                pos++;
                out.append(singleQuoted());
            } else if (ch == '"') {
                pos++;
                out.append(doubleQuoted());
            } else if (ch == '$') {
                pos++;
                out.append(dollar());
            } else {
                out.append(ch);
                pos++;
            }
        }
        throw new BuildException("missing '}' in substitution");
    }
}
