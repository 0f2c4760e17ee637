package dev.berth.events;

/**
 * A command refused by an aggregate. {@link #status()} is the Docker Engine API status code the caller should see
 * (400 bad parameter, 404 not found, 409 conflict, 500 otherwise); the message is what the client prints.
 */
public class DomainException extends RuntimeException {
    private final int status;

    public DomainException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }

    public static DomainException notFound(String message) {
        return new DomainException(404, message);
    }

    public static DomainException conflict(String message) {
        return new DomainException(409, message);
    }

    public static DomainException badRequest(String message) {
        return new DomainException(400, message);
    }
}
