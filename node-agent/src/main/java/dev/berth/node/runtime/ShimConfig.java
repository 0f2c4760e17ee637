package dev.berth.node.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes the line-based config berth-shim reads: {@code key value}, fields of a value separated by a TAB, each field
 * escaped ({@code \\}, {@code \n}, {@code \t}), so any byte but NUL survives and the C side needs no JSON parser.
 */
final class ShimConfig {
    private final StringBuilder out = new StringBuilder("version 1\n");

    ShimConfig put(String key, Object... fields) {
        out.append(key).append(' ');
        for (int i = 0; i < fields.length; i++) {
            if (i > 0) {
                out.append('\t');
            }
            String f = String.valueOf(fields[i]);
            if (f.indexOf('\0') >= 0) {
                throw new IllegalArgumentException(key + ": NUL bytes are not allowed");
            }
            out.append(f.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t"));
        }
        out.append('\n');
        return this;
    }

    void writeTo(Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, out, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
