package dev.berth.node.network;

import java.io.IOException;

/**
 * The caller asked for something that can never work (an unknown network mode, a port outside 1-65535, an
 * unsupported protocol, a malformed or foreign host IP): a client error, Docker's 400. Anything else an attach
 * throws (a port already allocated, a failing tool) is a plain {@link IOException}, Docker's 500.
 */
public final class InvalidNetworkSpecException extends IOException {
    public InvalidNetworkSpecException(String message) {
        super(message);
    }
}
