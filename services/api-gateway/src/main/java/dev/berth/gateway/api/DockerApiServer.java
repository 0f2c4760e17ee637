package dev.berth.gateway.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.gateway.auth.Tenants;
import dev.berth.gateway.config.GatewayConfig;
import dev.berth.gateway.events.EventStreams;
import dev.berth.gateway.proxy.NodeLocator;
import dev.berth.gateway.system.SystemEndpoints;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The Docker Engine API listener: a Netty server of its own (not the Quarkus HTTP server) because the API needs
 * what a REST stack hides: TCP half-close on hijacked connections, connection upgrades passed through
 * untouched, and bodies streamed both ways without buffering. See docs/adr/0004-gateway-front-door.md.
 *
 * <p>It binds at startup; a port that cannot be bound stops the application from starting.
 */
@ApplicationScoped
public class DockerApiServer {

    /** Name of the no-op first handler of a client pipeline: writing from it bypasses the HTTP encoder. */
    static final String RAW = "raw";

    private static final Logger LOG = Logger.getLogger(DockerApiServer.class);

    private final GatewayContext gateway;
    private EventLoopGroup acceptors;
    private EventLoopGroup workers;
    private volatile Channel listener;

    public DockerApiServer(GatewayConfig config, Tenants tenants, SystemEndpoints system, ObjectMapper json,
                           EventStreams events) {
        this.gateway = new GatewayContext(config, tenants, system, new Responses(json, system.build().serverHeader()),
                new NodeLocator(config, json), events);
    }

    void start(@Observes StartupEvent event) throws InterruptedException {
        GatewayConfig.Api api = gateway.config().api();
        acceptors = new NioEventLoopGroup(1, new DefaultThreadFactory("berth-api-accept", true));
        workers = new NioEventLoopGroup(api.ioThreads(), new DefaultThreadFactory("berth-api-io", true));
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(acceptors, workers)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                // without it Netty closes the whole connection on the client's FIN, and `docker run` loses output
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(RAW, new ChannelDuplexHandler());
                        ch.pipeline().addLast("codec", new HttpServerCodec(api.maxHeaderSize(), api.maxHeaderSize(), 65536));
                        ch.pipeline().addLast("docker-api", new FrontendHandler(gateway));
                    }
                });
        try {
            listener = bootstrap.bind(api.host(), api.port()).sync().channel();
        } catch (Exception e) {
            stopGroups();
            throw new IllegalStateException("cannot listen for the Docker API on " + api.host() + ":" + api.port()
                    + ": " + e.getMessage(), e);
        }
        if (!gateway.tenants().enabled() && !((InetSocketAddress) listener.localAddress()).getAddress().isLoopbackAddress()) {
            LOG.warnf("The Docker API on %s:%d is reachable from other hosts and needs no token: anyone who can connect"
                    + " can run containers as root. Set BERTH_TOKENS_FILE or bind to 127.0.0.1.", api.host(), port());
        }
        LOG.infof("Docker API listening on tcp://%s:%d (Server %s)", api.host(), port(), gateway.system().build().serverHeader());
    }

    void stop(@Observes ShutdownEvent event) {
        Channel ch = listener;
        if (ch != null) {
            ch.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        stopGroups();
    }

    private void stopGroups() {
        if (acceptors != null) {
            acceptors.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        }
        if (workers != null) {
            workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        }
    }

    /** The port actually bound (differs from the configured one when that is 0). */
    public int port() {
        Channel ch = listener;
        return ch == null ? -1 : ((InetSocketAddress) ch.localAddress()).getPort();
    }

    /** Whether the listener is bound and accepting. */
    public boolean listening() {
        Channel ch = listener;
        return ch != null && ch.isActive();
    }
}
