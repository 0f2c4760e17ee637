package dev.berth.node.runtime;

import dev.berth.node.nativeio.Libc;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A connection to a shim's attach socket: the process's output as Docker stdcopy frames ({@code [stream,0,0,0,len]}
 * then the bytes; stream 1 stdout, 2 stderr; with a TTY everything is stream 1) and, when the container was created
 * with OpenStdin, the process's stdin. {@link #closeStdin()} half-closes: with StdinOnce the process's stdin closes.
 * The stream ends (EOF) after the process has exited and its exit status is recorded.
 *
 * <p>Reading and writing may happen on two threads at once.
 */
public final class AttachStream implements Closeable {
    /** One chunk of output. */
    public record Frame(int stream, byte[] data) {
        public String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** All output until the end, split by stream. */
    public record Output(String stdout, String stderr) {
    }

    private final SocketChannel channel;
    private final InputStream in;
    private final OutputStream out;

    private AttachStream(SocketChannel channel) {
        this.channel = channel;
        // Not Channels.newInputStream/newOutputStream: both lock the channel's blockingLock, so a blocked read would
        // stall every write of stdin.
        this.in = new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] b = new byte[1];
                return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                return channel.read(ByteBuffer.wrap(b, off, len));
            }
        };
        this.out = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[]{(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                while (buf.hasRemaining()) {
                    channel.write(buf);
                }
            }
        };
    }

    /**
     * Connects with the given hello byte: 'a' attach (output and stdin) or 'w' wait (only the end). The socket is
     * reached through an open descriptor of its directory, so its path may be longer than sun_path's 108 bytes.
     */
    static AttachStream connect(Path socket, char mode) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        int dirFd = -1;
        try {
            dirFd = Libc.open(socket.getParent().toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
            ch.connect(UnixDomainSocketAddress.of("/proc/self/fd/" + dirFd + "/" + socket.getFileName()));
            ch.write(ByteBuffer.wrap(new byte[]{(byte) mode}));
            return new AttachStream(ch);
        } catch (IOException e) {
            ch.close();
            throw e;
        } finally {
            if (dirFd >= 0) {
                Libc.close(dirFd);
            }
        }
    }

    /** The raw framed output, e.g. to relay to a non-TTY Engine API client as it is. */
    public InputStream framedOutput() {
        return in;
    }

    /** The process's stdin (only when the container or exec has stdin open). */
    public OutputStream stdin() {
        return out;
    }

    /** Half-close: no more stdin; the output keeps coming. */
    public void closeStdin() throws IOException {
        channel.shutdownOutput();
    }

    /** The next frame, or null at the end of the stream. */
    public Frame read() throws IOException {
        byte[] hdr = new byte[8];
        int n = in.readNBytes(hdr, 0, 8);
        if (n == 0) {
            return null;
        }
        if (n < 8) {
            throw new EOFException("attach stream ended inside a frame header");
        }
        int len = ((hdr[4] & 0xff) << 24) | ((hdr[5] & 0xff) << 16) | ((hdr[6] & 0xff) << 8) | (hdr[7] & 0xff);
        byte[] data = in.readNBytes(len);
        if (data.length < len) {
            throw new EOFException("attach stream ended inside a frame");
        }
        return new Frame(hdr[0], data);
    }

    /** Reads everything until the process has exited. */
    public Output readToEnd() throws IOException {
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        for (Frame f; (f = read()) != null; ) {
            (f.stream() == 2 ? e : o).write(f.data());
        }
        return new Output(o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
