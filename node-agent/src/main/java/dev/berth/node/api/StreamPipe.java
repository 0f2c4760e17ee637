package dev.berth.node.api;

import dev.berth.node.runtime.AttachStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/**
 * Joins a hijacked client connection and a process's attach stream: stdin from the client to the process (the client's
 * FIN closes the process's stdin when it asked for stdin), output from the process to the client (stdcopy frames
 * without a TTY, raw bytes with one), until the process has exited and everything is flushed; then the connection
 * closes. A client that goes away only ends its own stream: the container keeps running.
 */
final class StreamPipe {
    private StreamPipe() {
    }

    /**
     * @param clientIn the connection's input, positioned after the request body (stdin may already be buffered)
     * @param stdin    relay the client's bytes to the process
     * @param stdout   relay stream 1
     * @param stderr   relay stream 2
     */
    static void run(Socket socket, InputStream clientIn, OutputStream clientOut, AttachStream stream, boolean tty,
                    boolean stdin, boolean stdout, boolean stderr) throws IOException {
        Thread input = new Thread(() -> {
            byte[] buf = new byte[8192];
            try {
                for (int n; (n = clientIn.read(buf)) > 0; ) {
                    if (stdin) {
                        stream.stdin().write(buf, 0, n);
                    }
                }
                if (stdin) {
                    stream.closeStdin();
                }
            } catch (IOException e) {
                // the client or the process went away
            }
        }, "berth-dataplane-stdin");
        input.setDaemon(true);
        input.start();
        try {
            for (AttachStream.Frame f; (f = stream.read()) != null; ) {
                if (f.stream() == 2 ? !stderr : !stdout) {
                    continue;
                }
                if (tty) {
                    clientOut.write(f.data());
                } else {
                    clientOut.write(Frames.header(f.stream(), f.data().length));
                    clientOut.write(f.data());
                }
                clientOut.flush();
            }
            clientOut.flush();
        } finally {
            stream.close();
            try {
                socket.shutdownOutput();
            } catch (IOException ignored) {
                // already closed by the client
            }
        }
    }
}
