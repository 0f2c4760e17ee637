package dev.berth.gateway.api;

import dev.berth.gateway.auth.Tenants;
import dev.berth.gateway.events.EventSink;
import dev.berth.gateway.events.EventStreams;
import dev.berth.gateway.proxy.DataPlane;
import dev.berth.gateway.proxy.ProxyExchange;
import dev.berth.gateway.system.SystemEndpoints;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * One client connection of the Docker API: parses requests one at a time, answers the gateway's own endpoints,
 * hands the others to a {@link ProxyExchange}, and turns the connection into a raw byte pipe when a service
 * hijacks it (attach, exec).
 *
 * <p>Everything here runs on the connection's event loop, and so does the backend connection of its exchange,
 * so no state needs locking.
 */
public final class FrontendHandler extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = Logger.getLogger(FrontendHandler.class);

    /** Endpoints that hijack the connection even when the client sends no Upgrade header (docker-java's exec). */
    private static final Pattern HIJACKING = Pattern.compile("^/(containers/[^/]+/attach|exec/[^/]+/start)$");

    /** Why reading from the client is paused; reading resumes when no reason is left. */
    public enum ReadBlocker { PIPELINED, CONNECTING, BACKEND_FULL }

    private final GatewayContext gateway;
    private final ArrayDeque<Object> pipelined = new ArrayDeque<>();
    /** How long a refused upload's remaining bytes are drained before the connection closes anyway. */
    private static final long LINGER_SECONDS = 2;
    private final EnumSet<ReadBlocker> blockers = EnumSet.noneOf(ReadBlocker.class);
    private ChannelHandlerContext ctx;

    /** The request being served, or null between requests. */
    private Exchange exchange;
    /** The client sent FIN. */
    private boolean inputShutdown;
    /** Answered and closing: the rest of a refused upload is read and dropped, so the answer is not lost to a reset. */
    private boolean lingering;
    /** The connection is a raw pipe now; HTTP is over on it. */
    private boolean raw;

    public FrontendHandler(GatewayContext gateway) {
        this.gateway = gateway;
    }

    /** The state of one request on this connection. */
    private static final class Exchange {
        final boolean keepAlive;
        final boolean hijackCapable;
        /** No body announced: answering before its (empty) end arrives costs nothing. */
        final boolean bodiless;
        ProxyExchange proxy;
        /** The event stream answering this request (GET /events), while it runs. */
        EventStreams.Handle events;
        boolean requestComplete;
        boolean responseComplete;
        boolean closeAfter;

        Exchange(boolean keepAlive, boolean hijackCapable, boolean bodiless) {
            this.keepAlive = keepAlive;
            this.hijackCapable = hijackCapable;
            this.bodiless = bodiless;
            this.closeAfter = !keepAlive;
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (lingering) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (raw) {
            if (exchange != null && exchange.proxy != null && msg instanceof ByteBuf bytes) {
                exchange.proxy.clientBytes(bytes);
            } else {
                ReferenceCountUtil.release(msg);
            }
            return;
        }
        if (exchange != null && exchange.requestComplete) {
            if (exchange.hijackCapable && msg instanceof ByteBuf bytes) {
                // stdin that follows a hijacking request, before the service has answered
                if (exchange.proxy != null) {
                    exchange.proxy.clientBytes(bytes);
                } else {
                    bytes.release();
                }
                return;
            }
            pipelined.add(msg);
            block(ReadBlocker.PIPELINED);
            return;
        }
        handle(msg);
    }

    private void handle(Object msg) {
        if (msg instanceof HttpObject http && http.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            Throwable cause = http.decoderResult().cause();
            if (exchange == null) {
                exchange = new Exchange(false, false, true);
                exchange.requestComplete = true;
                respond(gateway.responses().error(HttpResponseStatus.BAD_REQUEST,
                        "malformed HTTP request: " + (cause == null ? "unknown error" : cause.getMessage())));
            } else {
                // a request body that stopped making sense: nothing sensible can follow on this connection
                ctx.close();
            }
            return;
        }
        if (msg instanceof HttpRequest request) {
            startRequest(request);
        }
        if (msg instanceof HttpContent content) {
            requestContent(content);
        } else if (!(msg instanceof HttpRequest)) {
            ReferenceCountUtil.release(msg);
        }
    }

    private void startRequest(HttpRequest request) {
        String uri = request.uri();
        if (uri.startsWith("http://") || uri.startsWith("https://")) {
            int slash = uri.indexOf('/', uri.indexOf("//") + 2);
            uri = slash < 0 ? "/" : uri.substring(slash);
        }
        int q = uri.indexOf('?');
        String rawPath = q < 0 ? uri : uri.substring(0, q);
        String query = q < 0 ? "" : uri.substring(q);

        ApiVersion.Split split = ApiVersion.split(rawPath);
        String path = split.path();
        boolean upgradeTcp = isTcpUpgrade(request);
        boolean hijackCapable = upgradeTcp || HIJACKING.matcher(path).matches();
        exchange = new Exchange(HttpUtil.isKeepAlive(request), hijackCapable,
                !HttpUtil.isTransferEncodingChunked(request) && HttpUtil.getContentLength(request, 0L) == 0L);

        Route route = path.startsWith("/") ? Route.of(path, split.version() != null) : null;
        if (route == null) {
            respond(gateway.responses().error(HttpResponseStatus.NOT_FOUND, "page not found"));
            return;
        }
        if (split.version() != null) {
            String rejection = split.version().rejection();
            if (rejection != null) {
                respond(gateway.responses().error(HttpResponseStatus.BAD_REQUEST, rejection));
                return;
            }
        }
        boolean ping = route instanceof Route.Local local && local.endpoint() == Route.Endpoint.PING;
        String tenant = Tenants.DEFAULT_TENANT;
        if (!(ping && gateway.config().auth().pingOpen())) {
            Tenants.Decision decision = gateway.tenants().authenticate(request.headers().get(HttpHeaderNames.AUTHORIZATION));
            if (decision instanceof Tenants.Decision.Refused refused) {
                FullHttpResponse unauthorized = gateway.responses().error(HttpResponseStatus.UNAUTHORIZED, refused.message());
                unauthorized.headers().set(HttpHeaderNames.WWW_AUTHENTICATE,
                        path.startsWith("/v2") && split.version() == null ? "Basic realm=\"berth\"" : "Bearer realm=\"berth\"");
                respond(unauthorized);
                return;
            }
            tenant = ((Tenants.Decision.Allowed) decision).tenant();
        }

        if (LOG.isDebugEnabled()) {
            LOG.debugf("%s %s %s (tenant %s, API %s) -> %s", ctx.channel().remoteAddress(), request.method(), uri, tenant,
                    split.effective(), route);
        }
        if (route instanceof Route.Local local) {
            local(local.endpoint(), request, tenant);
            return;
        }
        Route.Service service = ((Route.Proxy) route).service();
        if (HttpUtil.is100ContinueExpected(request)) {
            // answered here, below the HTTP encoder, because the service never sees the Expect header
            ctx.pipeline().context(DockerApiServer.RAW).writeAndFlush(
                    Unpooled.copiedBuffer("HTTP/1.1 100 Continue\r\n\r\n", StandardCharsets.US_ASCII));
        }
        exchange.proxy = new ProxyExchange(this, ctx.channel(), gateway, service, request,
                path + query, split.effective(), tenant, upgradeTcp);
        DataPlane.Target onNode = service == Route.Service.CONTAINER
                ? DataPlane.match(request.method(), path) : null;
        if (onNode != null) {
            exchange.proxy.startOnNode(onNode, query, gateway.locator(), tenant);
        } else {
            exchange.proxy.start();
        }
    }

    private static boolean isTcpUpgrade(HttpRequest request) {
        String upgrade = request.headers().get(HttpHeaderNames.UPGRADE);
        return upgrade != null && upgrade.equalsIgnoreCase("tcp")
                && request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }

    private void local(Route.Endpoint endpoint, HttpRequest request, String tenant) {
        HttpMethod method = request.method();
        boolean get = method.equals(HttpMethod.GET);
        switch (endpoint) {
            case PING -> {
                if (get || method.equals(HttpMethod.HEAD)) {
                    respond(gateway.responses().ping(!get));
                } else {
                    respond(gateway.responses().error(HttpResponseStatus.NOT_FOUND, "page not found"));
                }
            }
            case VERSION -> respond(get
                    ? gateway.responses().json(HttpResponseStatus.OK, gateway.system().version())
                    : gateway.responses().error(HttpResponseStatus.NOT_FOUND, "page not found"));
            case INFO -> {
                if (!get) {
                    respond(gateway.responses().error(HttpResponseStatus.NOT_FOUND, "page not found"));
                    return;
                }
                Exchange current = exchange;
                gateway.system().info(tenant).whenComplete((body, e) -> ctx.executor().execute(() -> {
                    if (exchange != current || !ctx.channel().isActive()) {
                        return;
                    }
                    respond(e == null
                            ? gateway.responses().json(HttpResponseStatus.OK, body)
                            : gateway.responses().error(HttpResponseStatus.INTERNAL_SERVER_ERROR,
                                    "cannot assemble the system information: " + e.getMessage()));
                }));
            }
            case EVENTS -> {
                if (!get) {
                    respond(gateway.responses().error(HttpResponseStatus.NOT_FOUND, "page not found"));
                    return;
                }
                events(request, tenant);
            }
            case SYSTEM_DF -> {
                if (!get) {
                    respond(gateway.responses().error(HttpResponseStatus.NOT_FOUND, "page not found"));
                    return;
                }
                Exchange current = exchange;
                gateway.system().diskUsage(tenant).whenComplete((body, e) -> ctx.executor().execute(() -> {
                    if (exchange != current || !ctx.channel().isActive()) {
                        return;
                    }
                    Throwable cause = e instanceof CompletionException ? e.getCause() : e;
                    if (cause == null) {
                        respond(gateway.responses().json(HttpResponseStatus.OK, body));
                    } else if (cause instanceof SystemEndpoints.ServiceUnavailable unavailable) {
                        respond(gateway.responses().error(HttpResponseStatus.SERVICE_UNAVAILABLE, unavailable.getMessage()));
                    } else {
                        respond(gateway.responses().error(HttpResponseStatus.BAD_GATEWAY,
                                "cannot assemble the disk usage: " + cause.getMessage()));
                    }
                }));
            }
            case SWARM -> respond(gateway.responses().error(HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect"
                            + " this node to swarm and try again."));
        }
    }

    /** GET /events: parameters checked, headers flushed at once, then one chunk per event until until or hang-up. */
    private void events(HttpRequest request, String tenant) {
        var params = new QueryStringDecoder(request.uri()).parameters();
        EventStreams.Prepared prepared;
        try {
            prepared = gateway.events().prepare(first(params.get("since")), first(params.get("until")),
                    first(params.get("filters")), tenant);
        } catch (EventStreams.BadRequest e) {
            respond(gateway.responses().error(HttpResponseStatus.BAD_REQUEST, e.getMessage()));
            return;
        }
        Exchange current = exchange;
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        gateway.responses().standardHeaders(head.headers());
        responseHead(head);
        current.events = prepared.start(new EventsSink(current));
    }

    private static String first(List<String> values) {
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** The connection as an event stream sees it; called from the stream's own thread. */
    private final class EventsSink implements EventSink {
        private final Exchange owner;

        EventsSink(Exchange owner) {
            this.owner = owner;
        }

        @Override
        public void event(byte[] line) {
            // writes from another thread are queued on the event loop in call order
            ctx.channel().writeAndFlush(new DefaultHttpContent(Unpooled.wrappedBuffer(line)));
        }

        @Override
        public void end() {
            ctx.executor().execute(() -> {
                if (exchange != owner || !ctx.channel().isActive()) {
                    return;
                }
                owner.events = null;
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
                responseComplete();
            });
        }

        @Override
        public void abort() {
            ctx.executor().execute(() -> {
                if (exchange == owner) {
                    owner.events = null;
                    FrontendHandler.this.abort();
                }
            });
        }

        @Override
        public boolean writable() {
            return ctx.channel().isWritable() || !ctx.channel().isActive();
        }

        @Override
        public boolean open() {
            return ctx.channel().isActive();
        }
    }

    private void requestContent(HttpContent content) {
        Exchange current = exchange;
        if (current == null) {
            content.release();
            return;
        }
        boolean last = content instanceof LastHttpContent;
        if (last) {
            current.requestComplete = true;
        }
        if (current.proxy != null) {
            current.proxy.clientContent(content);
        } else {
            content.release();
        }
        if (last) {
            if (current.hijackCapable && current.proxy != null && !current.responseComplete && !raw) {
                // what follows is stdin for the service, not another request
                HttpServerCodec codec = ctx.pipeline().get(HttpServerCodec.class);
                if (codec != null) {
                    codec.removeInboundHandler();
                }
                current.closeAfter = true;
            }
            maybeFinish();
        }
    }

    /** Writes a complete response of the gateway's own and finishes the exchange's response side. */
    private void respond(FullHttpResponse response) {
        Exchange current = exchange;
        if (current == null) {
            response.release();
            return;
        }
        if (!current.requestComplete && !current.bodiless) {
            // the body of a request we refused is not worth reading: say so and close afterwards
            current.closeAfter = true;
        }
        if (current.closeAfter || inputShutdown) {
            response.headers().set("Connection", "close");
        }
        ctx.writeAndFlush(response);
        current.responseComplete = true;
        maybeFinish();
    }

    // ---- called by ProxyExchange (on this event loop) ----

    /** Whether the connection must close after the current response (callers set Connection: close then). */
    public boolean closesAfterResponse() {
        Exchange current = exchange;
        return current == null || current.closeAfter || inputShutdown || !current.requestComplete && !current.bodiless;
    }

    /** Sends the head of a proxied response. */
    public void responseHead(HttpResponse head) {
        if (closesAfterResponse()) {
            head.headers().set("Connection", "close");
            if (exchange != null) {
                exchange.closeAfter = true;
            }
        }
        ctx.writeAndFlush(head);
    }

    /**
     * Sends the head of a response that hijacks the connection (101, or a close-delimited raw stream) and turns
     * the connection into a raw pipe: no HTTP parsing or encoding from here on.
     */
    public void hijack(HttpResponse head) {
        ctx.writeAndFlush(head);
        raw = true;
        blockers.remove(ReadBlocker.PIPELINED);
        if (exchange != null) {
            exchange.closeAfter = true;
        }
        // removing the codec hands any bytes it had buffered (early stdin) to channelRead as raw bytes
        HttpServerCodec codec = ctx.pipeline().get(HttpServerCodec.class);
        if (codec != null) {
            ctx.pipeline().remove(codec);
        }
        releasePipelined();
        updateAutoRead();
    }

    /** The service finished the response (or the raw stream); the connection goes on or closes. */
    public void responseComplete() {
        Exchange current = exchange;
        if (current == null) {
            return;
        }
        current.responseComplete = true;
        if (raw) {
            ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        maybeFinish();
    }

    /** The service failed after the response head went out: the client can only learn it from a closed socket. */
    public void abort() {
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }

    /** Answers on behalf of the proxy with another component's answer, passed on unchanged. */
    public void proxyAnswer(HttpResponseStatus status, String contentType, byte[] body) {
        respond(gateway.responses().passThrough(status, contentType, body));
    }

    /** Answers with an error on behalf of the proxy (503 when a service is down). */
    public void proxyError(HttpResponseStatus status, String message) {
        respond(gateway.responses().error(status, message));
    }

    public void block(ReadBlocker reason) {
        blockers.add(reason);
        updateAutoRead();
    }

    public void unblock(ReadBlocker reason) {
        blockers.remove(reason);
        updateAutoRead();
    }

    private void updateAutoRead() {
        boolean read = blockers.isEmpty();
        if (ctx.channel().config().isAutoRead() != read) {
            ctx.channel().config().setAutoRead(read);
            if (read) {
                ctx.read();
            }
        }
    }

    private void maybeFinish() {
        Exchange current = exchange;
        if (current == null || !current.responseComplete || raw) {
            return;
        }
        if (!current.requestComplete && !current.closeAfter) {
            // the (empty) end of a bodiless request is still on its way; the connection stays open for the next
            return;
        }
        exchange = null;
        blockers.remove(ReadBlocker.CONNECTING);
        blockers.remove(ReadBlocker.BACKEND_FULL);
        if (current.closeAfter || inputShutdown) {
            releasePipelined();
            if (!current.requestComplete && !inputShutdown) {
                lingerThenClose();
            } else {
                ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            }
            return;
        }
        // replay what arrived meanwhile, up to the end of the next complete request
        while ((exchange == null || !exchange.requestComplete) && !pipelined.isEmpty()) {
            handle(pipelined.poll());
        }
        if (pipelined.isEmpty()) {
            blockers.remove(ReadBlocker.PIPELINED);
        }
        updateAutoRead();
    }

    /**
     * Closes a connection whose client is still sending a body we will not take, as Go's server does: closing with
     * unread bytes in the socket makes the kernel answer with a reset, and a client still writing would lose the
     * response it has not read yet. So: flush the response, end our side, drop what still arrives, and close when the
     * client ends its side or after a grace period.
     */
    private void lingerThenClose() {
        lingering = true;
        blockers.clear();
        ctx.channel().config().setAutoRead(true);
        ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (ctx.channel() instanceof SocketChannel socket && f.isSuccess()) {
                socket.shutdownOutput();
                ctx.executor().schedule(() -> ctx.close(), LINGER_SECONDS, TimeUnit.SECONDS);
            } else {
                ctx.close();
            }
        });
    }

    private void releasePipelined() {
        Object msg;
        while ((msg = pipelined.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange current = exchange;
        if (current != null && current.proxy != null) {
            current.proxy.clientWritabilityChanged(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputShutdown = true;
            if (lingering) {
                ctx.close();
                return;
            }
            Exchange current = exchange;
            if (current == null) {
                ctx.close();
            } else if (current.events != null) {
                // `docker events` ends by hanging up; the stream and its Kafka consumer go with it
                ctx.close();
            } else if (current.proxy != null && (raw || (current.hijackCapable && current.requestComplete))) {
                // the docker CLI half-closes right after the 101 when it has no stdin; output must keep flowing
                current.proxy.clientHalfClosed();
            } else if (current.proxy != null && current.proxy.responseStarted()) {
                // as Go's server cancels a request whose client hung up: a followed log or a pending wait must
                // not keep its service connection open for a reader that is gone
                ctx.close();
            } else {
                current.closeAfter = true;
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Exchange current = exchange;
        exchange = null;
        releasePipelined();
        if (current != null && current.proxy != null) {
            current.proxy.clientGone();
        }
        if (current != null && current.events != null) {
            current.events.cancel();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debugf(cause, "Docker API connection %s failed", ctx.channel().remoteAddress());
        ctx.close();
    }
}
