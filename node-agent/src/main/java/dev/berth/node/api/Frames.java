package dev.berth.node.api;

/** Docker's stdcopy framing: {@code [stream, 0, 0, 0, size (uint32 big-endian)]} before each payload. */
final class Frames {
    private Frames() {
    }

    static byte[] header(int stream, int length) {
        return new byte[]{(byte) stream, 0, 0, 0, (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8),
                (byte) length};
    }
}
