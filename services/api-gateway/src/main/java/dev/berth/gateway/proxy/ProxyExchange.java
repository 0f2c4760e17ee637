package dev.berth.gateway.proxy;

import dev.berth.gateway.api.ApiVersion;
import dev.berth.gateway.api.FrontendHandler;
import dev.berth.gateway.api.FrontendHandler.ReadBlocker;
import dev.berth.gateway.api.GatewayContext;
import dev.berth.gateway.api.Headers;
import dev.berth.gateway.api.Route;
import dev.berth.gateway.config.GatewayConfig;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.jboss.logging.Logger;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.ArrayDeque;
import java.util.List;

/**
 * One proxied request: a fresh connection to the owning service, the request streamed to it as it arrives, and
 * the response streamed back as it arrives (headers flushed at once, each body piece flushed as it comes).
 *
 * <p>When the service hijacks the connection (101 Switching Protocols, or a response delimited by closing the
 * connection, as docker-java's exec gets), both connections become a raw byte pipe, half-closes are passed on
 * (client FIN becomes a FIN to the service, output keeps flowing back), and the client's connection closes when
 * the service closes its side, as dockerd does at process exit.
 *
 * <p>The backend connection lives on the client connection's event loop, so both sides of an exchange are
 * handled by one thread. Backpressure: a side that cannot take more pauses reading from the other side.
 */
public final class ProxyExchange {
    /** The container's name ({@code /web}) for the node, which knows containers by id only. */
    static final String CONTAINER_NAME = "X-Berth-Container-Name";

    private static final Logger LOG = Logger.getLogger(ProxyExchange.class);
    private static final String RAW = "raw";
    private static final String CODEC = "codec";
    private static final List<CharSequence> HOP_BY_HOP = List.of(HttpHeaderNames.CONNECTION, HttpHeaderNames.KEEP_ALIVE,
            "Proxy-Connection", HttpHeaderNames.TE, HttpHeaderNames.TRAILER, HttpHeaderNames.UPGRADE,
            HttpHeaderNames.PROXY_AUTHORIZATION, HttpHeaderNames.PROXY_AUTHENTICATE, HttpHeaderNames.EXPECT);

    private final FrontendHandler front;
    private final Channel client;
    private final GatewayContext gateway;
    private final HttpRequest request;
    /** Who answers: a service, or once located, a node's data plane. Named so in error messages. */
    private String upstream;
    private String host;
    private int port;
    private Duration connectTimeout;
    private boolean toNode;
    private final boolean head;

    private final ArrayDeque<Object> waiting = new ArrayDeque<>();
    private Channel server;
    private ChannelHandlerContext serverRaw;
    private boolean failed;
    private boolean responseStarted;
    private boolean raw;
    private boolean finished;
    private boolean clientFinPending;

    public ProxyExchange(FrontendHandler front, Channel client, GatewayContext gateway, Route.Service service,
                         HttpRequest original, String serviceUri, ApiVersion version, String tenant, boolean upgradeTcp) {
        this.front = front;
        this.client = client;
        this.gateway = gateway;
        GatewayConfig.Backend backend = gateway.backend(service);
        this.upstream = service.displayName();
        this.host = backend.host();
        this.port = backend.port();
        this.connectTimeout = backend.connectTimeout();
        this.head = original.method().equals(HttpMethod.HEAD);
        this.request = rewrite(original, serviceUri, version, tenant, upgradeTcp);
    }

    private HttpRequest rewrite(HttpRequest original, String uri, ApiVersion version, String tenant, boolean upgradeTcp) {
        HttpRequest out = new DefaultHttpRequest(HttpVersion.HTTP_1_1, original.method(), uri);
        HttpHeaders h = out.headers();
        h.set(original.headers());
        for (CharSequence name : HOP_BY_HOP) {
            h.remove(name);
        }
        if (gateway.tenants().enabled()) {
            // the caller's token is the gateway's business; services only learn the tenant
            h.remove(HttpHeaderNames.AUTHORIZATION);
        }
        if (upgradeTcp) {
            h.set("Connection", "Upgrade");
            h.set("Upgrade", "tcp");
        } else {
            h.set("Connection", "close");
        }
        if (original.protocolVersion().equals(HttpVersion.HTTP_1_0) && !HttpUtil.isContentLengthSet(original)
                && !HttpUtil.isTransferEncodingChunked(original)) {
            h.set("Content-Length", 0);
        }
        h.set(Headers.TENANT, tenant);
        h.set(Headers.API_VERSION_TO_SERVICES, version.toString());
        if (client.remoteAddress() instanceof InetSocketAddress remote) {
            String prior = original.headers().get("X-Forwarded-For");
            String ip = remote.getAddress().getHostAddress();
            h.set("X-Forwarded-For", prior == null ? ip : prior + ", " + ip);
        }
        return out;
    }

    /** Connects to the service; the request goes out once connected. */
    public void start() {
        front.block(ReadBlocker.CONNECTING);
        connect();
    }

    /**
     * Asks container-service which node serves the target, then sends the request to that node's data plane with
     * the container reference replaced by the full id. A refusal (no such container...) reaches the client as
     * container-service gave it. Request bytes that arrive meanwhile wait, as they do while connecting.
     *
     * @param query the request's query string, with its '?', or empty
     */
    public void startOnNode(DataPlane.Target target, String query, NodeLocator locator, String tenant) {
        front.block(ReadBlocker.CONNECTING);
        locator.locate(target, tenant).whenComplete((result, e) ->
                client.eventLoop().execute(() -> located(target, query, result, e)));
    }

    private void located(DataPlane.Target target, String query, NodeLocator.Result result, Throwable e) {
        if (finished) {
            return;
        }
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause != null || result instanceof NodeLocator.Refused) {
            failed = true;
            finished = true;
            releaseWaiting();
            front.unblock(ReadBlocker.CONNECTING);
            if (!client.isActive()) {
                return;
            }
            if (result instanceof NodeLocator.Refused refused) {
                front.proxyAnswer(HttpResponseStatus.valueOf(refused.status()), refused.contentType(), refused.body());
            } else if (cause instanceof NodeLocator.Unavailable unavailable) {
                LOG.debugf(cause, "locating %s failed", target);
                front.proxyError(HttpResponseStatus.SERVICE_UNAVAILABLE, unavailable.getMessage());
            } else if (cause instanceof NodeLocator.BadAnswer bad) {
                front.proxyError(HttpResponseStatus.BAD_GATEWAY, bad.getMessage());
            } else {
                LOG.warnf(cause, "locating %s failed", target);
                front.proxyError(HttpResponseStatus.BAD_GATEWAY, "cannot locate the container: " + cause);
            }
            return;
        }
        NodeLocator.Located located = (NodeLocator.Located) result;
        request.setUri(target.nodePath(located.containerId()) + query);
        // the node has no tenants: the lookup above was the tenant check
        request.headers().remove(Headers.TENANT);
        // the node knows ids only; Docker's stats carry the container's name, which the CLI prints
        if (!located.name().isEmpty()) {
            request.headers().set(CONTAINER_NAME, located.name());
        }
        upstream = "node " + located.node();
        host = located.host();
        port = located.port();
        connectTimeout = gateway.config().dataPlane().connectTimeout();
        toNode = true;
        connect();
    }

    private void connect() {
        Bootstrap bootstrap = new Bootstrap()
                .group(client.eventLoop())
                .channel(NioSocketChannel.class)
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(RAW, new ChannelDuplexHandler());
                        ch.pipeline().addLast(CODEC, new HttpClientCodec(4096, gateway.config().api().maxHeaderSize(), 65536));
                        ch.pipeline().addLast("service", new ServiceHandler());
                    }
                });
        ChannelFuture connect = bootstrap.connect(host, port);
        server = connect.channel();
        connect.addListener(f -> {
            if (f.isSuccess()) {
                connected();
            } else {
                unavailable(f.cause());
            }
        });
    }

    private void connected() {
        if (finished) {
            server.close();
            return;
        }
        serverRaw = server.pipeline().context(RAW);
        server.write(request);
        Object msg;
        while ((msg = waiting.poll()) != null) {
            if (msg instanceof HttpContent content) {
                server.write(content);
            } else {
                serverRaw.write(msg);
            }
        }
        server.flush();
        front.unblock(ReadBlocker.CONNECTING);
        if (!server.isWritable()) {
            front.block(ReadBlocker.BACKEND_FULL);
        }
        if (clientFinPending) {
            shutdownServerOutput();
        }
    }

    private void unavailable(Throwable cause) {
        LOG.debugf("%s at %s:%d is unavailable: %s", upstream, host, port, cause);
        failed = true;
        finished = true;
        releaseWaiting();
        front.unblock(ReadBlocker.CONNECTING);
        if (!client.isActive()) {
            return;
        }
        if (toNode) {
            // container-service says the container is there, but its node cannot be reached: a gateway failure
            front.proxyError(HttpResponseStatus.BAD_GATEWAY, upstream + " at " + host + ":" + port
                    + " is unreachable: " + (cause == null ? "connection failed" : cause.getMessage()));
        } else {
            front.proxyError(HttpResponseStatus.SERVICE_UNAVAILABLE, upstream + " is unavailable");
        }
    }

    private void releaseWaiting() {
        Object msg;
        while ((msg = waiting.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
    }

    // ---- from the client side ----

    /** A piece of the request body. */
    public void clientContent(HttpContent content) {
        toServer(content);
    }

    /** Raw bytes from the client after the request (stdin of attach/exec). */
    public void clientBytes(ByteBuf bytes) {
        toServer(bytes);
    }

    private void toServer(Object msg) {
        if (failed || finished && !raw) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (serverRaw == null) {
            waiting.add(msg);
            return;
        }
        if (msg instanceof HttpContent content && !raw) {
            server.writeAndFlush(content);
        } else {
            ByteBuf bytes = msg instanceof HttpContent c ? c.content() : (ByteBuf) msg;
            serverRaw.writeAndFlush(bytes);
        }
        if (!server.isWritable()) {
            front.block(ReadBlocker.BACKEND_FULL);
        }
    }

    /** The client sent FIN while the connection is (or is about to be) hijacked. */
    public void clientHalfClosed() {
        if (serverRaw == null) {
            clientFinPending = true;
        } else {
            shutdownServerOutput();
        }
    }

    private void shutdownServerOutput() {
        // shutdownOutput fails writes still queued, so it waits for the last one to be on the wire
        serverRaw.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (server.isActive() && server instanceof DuplexChannel duplex) {
                duplex.shutdownOutput();
            }
        });
    }

    /** Whether the service's response head has gone out to the client. */
    public boolean responseStarted() {
        return responseStarted;
    }

    /** The client connection is gone: nobody is left to read the answer. */
    public void clientGone() {
        finished = true;
        releaseWaiting();
        if (server != null) {
            server.close();
        }
    }

    /** The client can take more (or no more) bytes. */
    public void clientWritabilityChanged(boolean writable) {
        if (server != null && server.isActive()) {
            server.config().setAutoRead(writable);
        }
    }

    // ---- from the service side ----

    private final class ServiceHandler extends ChannelInboundHandlerAdapter {

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (finished && !raw) {
                ReferenceCountUtil.release(msg);
                return;
            }
            if (raw) {
                ByteBuf bytes = msg instanceof HttpContent c ? c.content() : msg instanceof ByteBuf b ? b : null;
                if (bytes == null) {
                    ReferenceCountUtil.release(msg);
                    return;
                }
                toClient(bytes);
                return;
            }
            if (msg instanceof HttpResponse response) {
                if (!response.decoderResult().isSuccess()) {
                    ReferenceCountUtil.release(msg);
                    badAnswer("an unreadable response");
                    return;
                }
                int code = response.status().code();
                if (code >= 100 && code < 200 && code != 101) {
                    // interim answers (100 Continue) were already given to the client by the gateway
                    ReferenceCountUtil.release(msg);
                    return;
                }
                responseStarted = true;
                HttpHeaders h = response.headers();
                boolean upgrade = code == 101;
                boolean closeDelimited = !upgrade && !head && code != 204 && code != 304
                        && !HttpUtil.isContentLengthSet(response) && !HttpUtil.isTransferEncodingChunked(response);
                String upgradeTo = h.get(HttpHeaderNames.UPGRADE);
                for (CharSequence name : HOP_BY_HOP) {
                    h.remove(name);
                }
                gateway.responses().standardHeaders(h);
                if (upgrade || closeDelimited) {
                    if (upgrade) {
                        h.set("Connection", "Upgrade");
                        h.set("Upgrade", upgradeTo == null ? "tcp" : upgradeTo);
                    }
                    goRaw(ctx, response);
                } else {
                    front.responseHead(response);
                    if (msg instanceof HttpContent content) {
                        content(ctx, content);
                    }
                }
                return;
            }
            if (msg instanceof HttpContent content) {
                content(ctx, content);
                return;
            }
            ReferenceCountUtil.release(msg);
        }

        private void content(ChannelHandlerContext ctx, HttpContent content) {
            boolean last = content instanceof LastHttpContent;
            client.writeAndFlush(content);
            if (!client.isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
            if (last) {
                finished = true;
                ctx.close();
                front.responseComplete();
            }
        }

        private void goRaw(ChannelHandlerContext ctx, HttpResponse response) {
            raw = true;
            HttpResponse headOnly = new DefaultHttpResponse(
                    response.protocolVersion(), response.status(), response.headers());
            ReferenceCountUtil.release(response);
            front.hijack(headOnly);
            // bytes the codec had already read past the head are handed on as raw bytes when it is removed
            ctx.pipeline().remove(CODEC);
        }

        private void toClient(ByteBuf bytes) {
            client.writeAndFlush(bytes);
            if (!client.isWritable()) {
                server.config().setAutoRead(false);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                front.unblock(ReadBlocker.BACKEND_FULL);
            } else {
                front.block(ReadBlocker.BACKEND_FULL);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                serviceClosed(ctx);
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            serviceClosed(ctx);
            ctx.fireChannelInactive();
        }

        private void serviceClosed(ChannelHandlerContext ctx) {
            if (raw) {
                if (!finished) {
                    // dockerd closes the hijacked connection when the process has exited and its output is out
                    finished = true;
                    ctx.close();
                    front.responseComplete();
                }
                return;
            }
            if (finished) {
                return;
            }
            ctx.close();
            if (!responseStarted) {
                badAnswer("no answer");
            } else {
                finished = true;
                front.abort();
            }
        }

        private void badAnswer(String what) {
            finished = true;
            server.close();
            if (client.isActive()) {
                front.proxyError(HttpResponseStatus.BAD_GATEWAY, upstream + " gave " + what);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debugf(cause, "connection to %s failed", upstream);
            ctx.close();
        }
    }
}
