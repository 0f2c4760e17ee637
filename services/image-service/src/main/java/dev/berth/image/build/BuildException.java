package dev.berth.image.build;

import dev.berth.events.DomainException;

/**
 * A build that cannot go on. Before the answer has started it is an HTTP error with {@link #status()}; once the
 * message stream has started it becomes an in-stream {@code errorDetail} whose {@code code} (when not null) is the
 * CLI's exit status.
 */
public class BuildException extends DomainException {

    private final Integer code;

    public BuildException(int status, String message, Integer code) {
        super(status, message);
        this.code = code;
    }

    public BuildException(String message) {
        this(400, message, null);
    }

    /** The exit code the client should report (a failed RUN's exit status), or null. */
    public Integer code() {
        return code;
    }

    /** Docker's form of a Dockerfile syntax error: {@code Dockerfile parse error line N: ...}. */
    public static BuildException parse(int line, String message) {
        return new BuildException("Dockerfile parse error line " + line + ": " + message);
    }
}
