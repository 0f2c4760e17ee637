package dev.berth.engineapi;

import dev.berth.events.DomainException;

/**
 * Booleans in query strings, read as Go's {@code strconv.ParseBool} reads them, because Docker's clients write them
 * for a Go server: {@code 1 t T TRUE true True} are true, {@code 0 f F FALSE false False} are false, nothing else is
 * a boolean (not {@code yes}, not {@code tRUE}, not surrounding spaces).
 */
public final class GoBool {

    private GoBool() {
    }

    /**
     * @param name     the parameter name, for the error message
     * @param value    the raw value; null or empty means {@code fallback} (Docker treats {@code ?force=} as absent)
     * @param fallback the value of an absent parameter
     * @return the parsed boolean
     * @throws DomainException 400 {@code invalid value for <name>: strconv.ParseBool: parsing "<value>": invalid
     *                         syntax} for anything ParseBool refuses
     */
    public static boolean parse(String name, String value, boolean fallback) {
        if (value == null || value.isEmpty()) {
            return fallback;
        }
        return switch (value) {
            case "1", "t", "T", "TRUE", "true", "True" -> true;
            case "0", "f", "F", "FALSE", "false", "False" -> false;
            default -> throw DomainException.badRequest(
                    "invalid value for " + name + ": strconv.ParseBool: parsing \"" + value + "\": invalid syntax");
        };
    }
}
