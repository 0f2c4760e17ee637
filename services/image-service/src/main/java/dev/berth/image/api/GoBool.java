package dev.berth.image.api;

import dev.berth.events.DomainException;

/** Booleans in query strings, read as Go's {@code strconv.ParseBool} reads them (Docker's clients write them so). */
public final class GoBool {

    private GoBool() {
    }

    /**
     * @param name  the parameter name, for the error message
     * @param value the raw value; null or empty means {@code fallback}
     * @throws DomainException 400 for anything ParseBool refuses
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
