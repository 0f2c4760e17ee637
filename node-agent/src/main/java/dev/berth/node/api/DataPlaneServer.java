package dev.berth.node.api;

import org.jboss.logging.Logger;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's data plane: the HTTP/1.1 endpoints container-service relays to (logs, attach, exec, archive, stats, top,
 * resize). A blocking server with a thread per connection, not the Quarkus HTTP server: attach and exec hijack the
 * connection and must honour TCP half-close (the client's FIN ends stdin, output keeps flowing), which Vert.x's HTTP
 * server cannot do (docs/adr/0004-gateway-front-door.md), and the runtime's streams are blocking anyway. See
 * docs/node/agent.md.
 *
 * <p>Keep-alive is supported for plain requests; a hijacked or close-delimited response closes the connection.
 */
public final class DataPlaneServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DataPlaneServer.class);
    /** An idle keep-alive connection is closed after this long without a request (streams have no limit). */
    private static final int IDLE_MILLIS = 120_000;

    private final DataPlaneApi api;
    private final ServerSocket server;
    private final ExecutorService threads;
    private final Semaphore slots;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private volatile boolean running = true;

    /**
     * Binds at once.
     *
     * @throws IOException naming the address when it cannot be bound
     */
    public DataPlaneServer(DataPlaneApi api, String host, int port, int maxConnections) throws IOException {
        this.api = api;
        this.server = new ServerSocket();
        server.setReuseAddress(true);
        try {
            server.bind(new InetSocketAddress(InetAddress.getByName(host), port), 256);
        } catch (IOException e) {
            server.close();
            throw new IOException("cannot listen for the data plane on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        AtomicInteger n = new AtomicInteger();
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "berth-dataplane-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.slots = new Semaphore(maxConnections);
        this.acceptor = new Thread(this::accept, "berth-dataplane-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        LOG.infof("data plane listening on %s:%d", host, port());
    }

    /** The port bound (differs from the configured one when that was 0). */
    public int port() {
        return server.getLocalPort();
    }

    public boolean listening() {
        return running && server.isBound() && !server.isClosed();
    }

    private void accept() {
        while (running) {
            try {
                slots.acquire();
                Socket s;
                try {
                    s = server.accept();
                } catch (IOException e) {
                    slots.release();
                    if (running) {
                        LOG.warnf("data plane accept: %s", e.getMessage());
                    }
                    continue;
                }
                open.add(s);
                threads.execute(() -> {
                    try {
                        serve(s);
                    } finally {
                        open.remove(s);
                        slots.release();
                    }
                });
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(s.getInputStream(), 65536);
            OutputStream out = new BufferedOutputStream(s.getOutputStream(), 65536);
            while (running) {
                HttpRequest req;
                try {
                    s.setSoTimeout(IDLE_MILLIS);
                    req = HttpRequest.read(in);
                    s.setSoTimeout(0);
                } catch (HttpRequest.BadRequest e) {
                    new HttpResponse(out).error(400, e.getMessage());
                    return;
                }
                if (req == null) {
                    return;
                }
                HttpResponse resp = new HttpResponse(out);
                api.handle(new DataPlaneApi.Exchange(req, resp, s, in, out));
                if (resp.closeAfter() || "close".equalsIgnoreCase(req.header("connection"))) {
                    return;
                }
                req.body.transferTo(OutputStream.nullOutputStream());
            }
        } catch (SocketException | java.net.SocketTimeoutException e) {
            // the client went away, or stayed idle too long
        } catch (IOException e) {
            LOG.debugf("data plane connection: %s", e.getMessage());
        }
    }

    @Override
    public void close() {
        running = false;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        acceptor.interrupt();
        for (Socket s : open) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        threads.shutdownNow();
    }
}
