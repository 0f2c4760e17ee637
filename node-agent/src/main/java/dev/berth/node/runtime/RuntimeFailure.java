package dev.berth.node.runtime;

import java.io.IOException;

/**
 * A runtime operation that failed for a reason the caller should show to the user, with the HTTP status the Engine
 * API uses for it (400 bad input, 404 no such container/image, 409 conflict with the container's state, 500 other).
 */
public class RuntimeFailure extends IOException {
    private final int status;

    public RuntimeFailure(int status, String message) {
        super(message);
        this.status = status;
    }

    public RuntimeFailure(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    /** The Engine API status code for this failure. */
    public int status() {
        return status;
    }

    public static RuntimeFailure badRequest(String message) {
        return new RuntimeFailure(400, message);
    }

    public static RuntimeFailure notFound(String message) {
        return new RuntimeFailure(404, message);
    }

    public static RuntimeFailure conflict(String message) {
        return new RuntimeFailure(409, message);
    }
}
