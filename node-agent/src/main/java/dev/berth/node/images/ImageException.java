package dev.berth.node.images;

import java.io.IOException;

/**
 * An image's layers could not be made available on this node, with the Engine API status to answer: 404 when the
 * registry does not have a blob, 400 for a malformed layer description, 502 when the registry cannot be reached or
 * misbehaves, 500 when the blob is corrupt (digest mismatch) or cannot be unpacked.
 */
public final class ImageException extends IOException {
    private final int status;

    public ImageException(int status, String message) {
        super(message);
        this.status = status;
    }

    public ImageException(int status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
