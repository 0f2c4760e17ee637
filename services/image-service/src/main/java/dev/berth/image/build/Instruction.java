package dev.berth.image.build;

import java.util.List;
import java.util.Map;

/**
 * One Dockerfile instruction after line continuations are joined.
 *
 * @param line     the line it starts on (1-based, as Docker counts)
 * @param keyword  the instruction name in lower case ({@code from}, {@code run}...)
 * @param original the instruction as written, continuations joined (what {@code Step N/M :} prints)
 * @param flags    the leading {@code --name=value} flags, in order
 * @param args     the text after the keyword and flags, trimmed
 * @param json     the arguments of the exec (JSON array) form, or null for the shell form
 */
public record Instruction(int line, String keyword, String original, Map<String, String> flags, String args,
                          List<String> json) {

    public boolean isJson() {
        return json != null;
    }

    /** A flag's value, or null when it was not given. */
    public String flag(String name) {
        return flags.get(name);
    }
}
