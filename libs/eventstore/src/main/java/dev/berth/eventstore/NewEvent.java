package dev.berth.eventstore;

/**
 * An event about to be appended.
 *
 * @param type the CloudEvents type, e.g. {@code dev.berth.volume.created.v1}
 * @param data the payload record, serialised to JSON by the event codec
 */
public record NewEvent(String type, Object data) {
}
