package dev.berth.eventstore;

/** Another writer appended to the aggregate first: the expected version no longer holds. Retry from a fresh load. */
public class ConcurrencyException extends RuntimeException {
    public ConcurrencyException(String aggregateId, long expectedVersion) {
        super("aggregate " + aggregateId + " is no longer at version " + expectedVersion);
    }
}
