package dev.berth.image.remote;

import dev.berth.events.DomainException;

import java.util.Locale;

/**
 * A registry refused a request, or could not be reached. {@link #getMessage()} is worded as Docker prints
 * registry errors ({@code manifest unknown: manifest unknown}, {@code unauthorized: authentication required}); the
 * status is the one the Engine API answers with.
 */
public class RegistryException extends DomainException {

    private final String code;

    public RegistryException(int status, String code, String message) {
        super(status, message);
        this.code = code;
    }

    /** The distribution API error code ({@code MANIFEST_UNKNOWN}, {@code UNAUTHORIZED}, ...), or null. */
    public String code() {
        return code;
    }

    /** Docker's rendering of a distribution error: the code in lower case words, then the registry's message. */
    public static String describe(String code, String message) {
        String words = code.toLowerCase(Locale.ROOT).replace('_', ' ');
        return message == null || message.isEmpty() ? words : words + ": " + message;
    }
}
