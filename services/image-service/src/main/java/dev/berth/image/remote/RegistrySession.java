package dev.berth.image.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * One authenticated conversation with a registry about one repository (the distribution API, {@code /v2/}).
 *
 * <p>Authentication follows Docker: {@code GET /v2/} without credentials; a 401 names the scheme in
 * {@code WWW-Authenticate}. {@code Basic}: every request carries the user's name and password. {@code Bearer}: a token
 * is fetched from the challenge's realm for {@code repository:<path>:pull[,push]} (with the user's name and password
 * as basic credentials if there are any, anonymously otherwise; an identity token is exchanged with the OAuth2
 * {@code refresh_token} grant) and sent with every request. A 401 later in the session with a new challenge is
 * answered once more, then reported.
 *
 * <p>Not thread-safe: one operation uses one session.
 */
public final class RegistrySession {

    /** What a pull accepts, as dockerd sends it (schema 1 is not read: Docker dropped it too). */
    public static final String[] MANIFEST_TYPES = {
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.oci.image.index.v1+json"};
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration SMALL_REQUEST = Duration.ofMinutes(2);

    private final HttpClient http;
    private final RemoteReference reference;
    private final RegistryCredentials credentials;
    private final boolean push;
    private final boolean insecure;
    private String base;
    private String authorization;
    private String challenge;

    RegistrySession(HttpClient http, RemoteReference reference, RegistryCredentials credentials, boolean push,
                    boolean insecure) {
        this.http = http;
        this.reference = reference;
        this.credentials = credentials;
        this.push = push;
        this.insecure = insecure;
    }

    /** A manifest as the registry served it; {@code digest} is the sha256 of exactly these bytes. */
    public record Manifest(byte[] content, String mediaType, String digest) {
    }

    /** {@code GET /v2/}: picks the scheme and learns how to authenticate. */
    void ping() {
        String https = "https://" + reference.endpoint();
        HttpResponse<byte[]> r;
        try {
            base = https;
            r = exchange(() -> get("/v2/"), HttpResponse.BodyHandlers.ofByteArray(), false);
        } catch (RegistryException e) {
            if (!insecure || !(e.getCause() instanceof IOException)) {
                throw e;
            }
            // an insecure registry that does not answer over TLS: Docker falls back to plain HTTP
            base = "http://" + reference.endpoint();
            r = exchange(() -> get("/v2/"), HttpResponse.BodyHandlers.ofByteArray(), false);
        }
        if (r.statusCode() == 401) {
            authenticate(r);
            return;
        }
        if (r.statusCode() / 100 != 2) {
            throw failure(r, r.body(), "GET", base + "/v2/");
        }
    }

    /**
     * Fetches a manifest by tag or digest with the Accept list of dockerd.
     *
     * @throws RegistryException 404 ({@code MANIFEST_UNKNOWN}, {@code NAME_UNKNOWN}) or the registry's error; 400 when
     *                           a manifest asked by digest does not have that digest
     */
    public Manifest manifest(String ref) {
        String path = "/v2/" + reference.path() + "/manifests/" + ref;
        HttpResponse<byte[]> r = exchange(() -> {
            HttpRequest.Builder b = get(path);
            for (String type : MANIFEST_TYPES) {
                b.header("Accept", type);
            }
            return b;
        }, HttpResponse.BodyHandlers.ofByteArray(), true);
        if (r.statusCode() != 200) {
            throw failure(r, r.body(), "GET", base + path);
        }
        String digest = sha256(r.body());
        if (ref.startsWith("sha256:") && !ref.equals(digest)) {
            throw new RegistryException(400, "DIGEST_INVALID", "manifest verification failed for digest " + ref);
        }
        String type = r.headers().firstValue("Content-Type").orElse("");
        int semicolon = type.indexOf(';');
        type = (semicolon >= 0 ? type.substring(0, semicolon) : type).trim();
        if (type.isEmpty() || type.equals("application/json") || type.equals("text/plain")) {
            type = readJson(r.body()).path("mediaType").asText("");
        }
        return new Manifest(r.body(), type, digest);
    }

    /**
     * Opens a blob for reading, following redirects (to a CDN, without the registry's credentials).
     *
     * @throws RegistryException when the registry answers anything but the blob
     */
    public InputStream blob(String digest) {
        String path = "/v2/" + reference.path() + "/blobs/" + digest;
        HttpResponse<InputStream> r = exchange(() -> get(path).timeout(Duration.ofHours(12)),
                HttpResponse.BodyHandlers.ofInputStream(), true);
        URI at = URI.create(base + path);
        for (int hops = 0; r.statusCode() / 100 == 3 && hops < 10; hops++) {
            String location = r.headers().firstValue("Location").orElse(null);
            drain(r.body());
            if (location == null) {
                break;
            }
            URI next = at.resolve(location);
            boolean sameHost = Objects.equals(next.getHost(), at.getHost()) && next.getPort() == at.getPort();
            HttpRequest.Builder b = HttpRequest.newBuilder(next).GET().timeout(Duration.ofHours(12));
            if (sameHost && authorization != null) {
                b.header("Authorization", authorization);
            }
            r = send(b.build(), HttpResponse.BodyHandlers.ofInputStream(), "GET", next.toString());
            at = next;
        }
        if (r.statusCode() != 200) {
            byte[] body = readQuietly(r.body());
            throw failure(r, body, "GET", at.toString());
        }
        return r.body();
    }

    /** {@code HEAD} of a blob: whether the repository already has it (a push skips those). */
    public boolean hasBlob(String digest) {
        String path = "/v2/" + reference.path() + "/blobs/" + digest;
        HttpResponse<Void> r = exchange(() -> request(path).method("HEAD", HttpRequest.BodyPublishers.noBody()),
                HttpResponse.BodyHandlers.discarding(), true);
        if (r.statusCode() == 200) {
            return true;
        }
        if (r.statusCode() == 404) {
            return false;
        }
        throw failure(r, new byte[0], "HEAD", base + path);
    }

    /**
     * Uploads a blob monolithically: {@code POST /blobs/uploads/}, then one {@code PUT <location>?digest=} with the
     * whole content.
     *
     * @param content opens the content afresh (a retry after a new authentication challenge reads it again)
     * @throws RegistryException when the registry refuses the upload (a digest it computes otherwise included)
     */
    public void upload(String digest, long size, Supplier<InputStream> content) {
        String start = "/v2/" + reference.path() + "/blobs/uploads/";
        HttpResponse<byte[]> r = exchange(() -> request(start).POST(HttpRequest.BodyPublishers.noBody()),
                HttpResponse.BodyHandlers.ofByteArray(), true);
        if (r.statusCode() != 202) {
            throw failure(r, r.body(), "POST", base + start);
        }
        String location = r.headers().firstValue("Location").orElseThrow(() ->
                new RegistryException(500, null, "POST \"" + base + start + "\": the registry gave no upload location"));
        URI target = URI.create(base + start).resolve(location);
        String put = target + (target.getRawQuery() == null ? "?" : "&") + "digest="
                + URLEncoder.encode(digest, StandardCharsets.UTF_8);
        HttpResponse<byte[]> done = exchange(() -> HttpRequest.newBuilder(URI.create(put))
                        .timeout(Duration.ofHours(12)).header("Content-Type", "application/octet-stream")
                        .PUT(HttpRequest.BodyPublishers.fromPublisher(
                                HttpRequest.BodyPublishers.ofInputStream(content), size)),
                HttpResponse.BodyHandlers.ofByteArray(), true);
        if (done.statusCode() != 201) {
            throw failure(done, done.body(), "PUT", put);
        }
    }

    /**
     * {@code PUT /v2/<path>/manifests/<tag>}.
     *
     * @return the digest the registry gives the manifest
     */
    public String putManifest(String tag, String mediaType, byte[] content) {
        String path = "/v2/" + reference.path() + "/manifests/" + tag;
        HttpResponse<byte[]> r = exchange(() -> request(path).header("Content-Type", mediaType)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(content)), HttpResponse.BodyHandlers.ofByteArray(), true);
        if (r.statusCode() != 201) {
            throw failure(r, r.body(), "PUT", base + path);
        }
        return r.headers().firstValue("Docker-Content-Digest").orElse(sha256(content));
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(SMALL_REQUEST);
    }

    private HttpRequest.Builder get(String path) {
        return request(path).GET();
    }

    /**
     * Sends with the session's credentials; on a 401 that carries a challenge this session has not answered yet, it
     * authenticates again and retries once.
     */
    private <T> HttpResponse<T> exchange(Supplier<HttpRequest.Builder> builder, HttpResponse.BodyHandler<T> handler,
                                         boolean authenticated) {
        HttpRequest request = withAuth(builder.get(), authenticated).build();
        HttpResponse<T> r = send(request, handler, request.method(), request.uri().toString());
        if (r.statusCode() == 401 && authenticated) {
            String again = r.headers().firstValue("WWW-Authenticate").orElse(null);
            if (again != null && !again.equals(challenge)) {
                if (r.body() instanceof InputStream in) {
                    drain(in);
                }
                authenticate(again);
                request = withAuth(builder.get(), true).build();
                r = send(request, handler, request.method(), request.uri().toString());
            }
        }
        return r;
    }

    private HttpRequest.Builder withAuth(HttpRequest.Builder b, boolean authenticated) {
        if (authenticated && authorization != null) {
            b.header("Authorization", authorization);
        }
        return b.header("User-Agent", "berth");
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler, String method,
                                     String url) {
        try {
            return http.send(request, handler);
        } catch (IOException e) {
            String why = e.getMessage() == null || e.getMessage().isEmpty() ? describe(e, url) : e.getMessage();
            throw (RegistryException) new RegistryException(500, null, capitalized(method) + " \"" + url + "\": " + why)
                    .initCause(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RegistryException(500, null, capitalized(method) + " \"" + url + "\": interrupted");
        }
    }

    /** Java's connection errors often carry no message: name the failure as dockerd's dialer would. */
    private static String describe(IOException e, String url) {
        if (e instanceof java.net.ConnectException) {
            URI u = URI.create(url);
            int port = u.getPort() > 0 ? u.getPort() : "https".equals(u.getScheme()) ? 443 : 80;
            return "dial tcp " + u.getHost() + ":" + port + ": connect: connection refused";
        }
        if (e instanceof java.net.http.HttpConnectTimeoutException) {
            return "dial tcp: i/o timeout";
        }
        return e.getClass().getSimpleName() + (e.getCause() != null && e.getCause().getMessage() != null
                ? ": " + e.getCause().getMessage() : "");
    }

    private void authenticate(HttpResponse<?> unauthorized) {
        authenticate(unauthorized.headers().firstValue("WWW-Authenticate").orElse(""));
    }

    private void authenticate(String header) {
        challenge = header;
        String scheme = header.contains(" ") ? header.substring(0, header.indexOf(' ')) : header;
        Map<String, String> params = parameters(header.substring(scheme.length()));
        switch (scheme.toLowerCase(Locale.ROOT)) {
            case "basic" -> {
                if (!credentials.hasPassword()) {
                    throw new RegistryException(401, "UNAUTHORIZED", "unauthorized: no basic auth credentials");
                }
                authorization = credentials.basic();
            }
            case "bearer" -> authorization = "Bearer " + token(params);
            default -> throw new RegistryException(401, "UNAUTHORIZED",
                    "unauthorized: the registry asks for an authentication scheme Berth does not speak: " + header);
        }
    }

    /** The Docker token flow: {@code GET <realm>?service=&scope=}, or the OAuth2 refresh grant for an identity token. */
    private String token(Map<String, String> challengeParams) {
        if (credentials.registryToken() != null) {
            return credentials.registryToken();
        }
        String realm = challengeParams.get("realm");
        if (realm == null || realm.isEmpty()) {
            throw new RegistryException(401, "UNAUTHORIZED", "unauthorized: the bearer challenge names no realm");
        }
        String service = challengeParams.getOrDefault("service", "");
        String scope = "repository:" + reference.path() + ":" + (push ? "pull,push" : "pull");
        HttpRequest.Builder b;
        String method;
        if (credentials.identityToken() != null) {
            String form = "grant_type=refresh_token&client_id=berth&service=" + enc(service) + "&scope=" + enc(scope)
                    + "&refresh_token=" + enc(credentials.identityToken());
            b = HttpRequest.newBuilder(URI.create(realm)).timeout(SMALL_REQUEST)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form));
            method = "POST";
        } else {
            String query = (realm.contains("?") ? "&" : "?") + "service=" + enc(service) + "&scope=" + enc(scope);
            b = HttpRequest.newBuilder(URI.create(realm + query)).timeout(SMALL_REQUEST).GET();
            if (credentials.hasPassword()) {
                b.header("Authorization", credentials.basic());
            }
            method = "GET";
        }
        HttpRequest request = b.header("User-Agent", "berth").build();
        HttpResponse<byte[]> r = send(request, HttpResponse.BodyHandlers.ofByteArray(), method,
                request.uri().toString());
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            JsonNode body = readJsonQuietly(r.body());
            String detail = body.path("details").asText(body.path("errors").path(0).path("message")
                    .asText("incorrect username or password"));
            throw new RegistryException(401, "UNAUTHORIZED", "unauthorized: " + detail);
        }
        if (r.statusCode() != 200) {
            throw failure(r, r.body(), method, request.uri().toString());
        }
        JsonNode body = readJsonQuietly(r.body());
        String token = body.path("token").asText(body.path("access_token").asText(""));
        if (token.isEmpty()) {
            throw new RegistryException(401, "UNAUTHORIZED", "unauthorized: the token server " + realm
                    + " gave no token");
        }
        return token;
    }

    /** {@code key="value", key2=value2} of a challenge. */
    static Map<String, String> parameters(String s) {
        Map<String, String> out = new LinkedHashMap<>();
        int i = 0;
        while (i < s.length()) {
            while (i < s.length() && (s.charAt(i) == ',' || s.charAt(i) == ' ')) {
                i++;
            }
            int eq = s.indexOf('=', i);
            if (eq < 0) {
                break;
            }
            String key = s.substring(i, eq).trim().toLowerCase(Locale.ROOT);
            i = eq + 1;
            StringBuilder value = new StringBuilder();
            if (i < s.length() && s.charAt(i) == '"') {
                i++;
                while (i < s.length() && s.charAt(i) != '"') {
                    if (s.charAt(i) == '\\' && i + 1 < s.length()) {
                        i++;
                    }
                    value.append(s.charAt(i++));
                }
                i++;
            } else {
                while (i < s.length() && s.charAt(i) != ',') {
                    value.append(s.charAt(i++));
                }
            }
            out.put(key, value.toString().trim());
        }
        return out;
    }

    /** The registry's error, worded as Docker words it ({@code code words: message}). */
    private RegistryException failure(HttpResponse<?> r, byte[] body, String method, String url) {
        JsonNode error = readJsonQuietly(body).path("errors").path(0);
        String code = error.path("code").asText("");
        if (!code.isEmpty()) {
            int status = r.statusCode() == 401 || r.statusCode() == 403 || r.statusCode() == 404 ? r.statusCode() : 500;
            return new RegistryException(status, code, RegistryException.describe(code, error.path("message").asText("")));
        }
        if (r.statusCode() == 401) {
            return new RegistryException(401, "UNAUTHORIZED", "unauthorized: authentication required");
        }
        if (r.statusCode() == 404) {
            return new RegistryException(404, "NOT_FOUND", "not found");
        }
        return new RegistryException(500, null, capitalized(method) + " \"" + url + "\": unexpected status "
                + r.statusCode() + " from the registry");
    }

    private static JsonNode readJson(byte[] body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new RegistryException(500, "MANIFEST_INVALID", "manifest invalid: not JSON: " + e.getMessage());
        }
    }

    private static JsonNode readJsonQuietly(byte[] body) {
        try {
            JsonNode n = body == null || body.length == 0 ? null : JSON.readTree(body);
            return n == null ? JSON.createObjectNode() : n;
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }

    private static byte[] readQuietly(InputStream in) {
        try (in) {
            return in.readNBytes(1 << 16);
        } catch (IOException e) {
            return new byte[0];
        }
    }

    private static void drain(InputStream in) {
        try (in) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        } catch (IOException ignored) {
            // the connection is dropped either way
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String capitalized(String method) {
        return method.charAt(0) + method.substring(1).toLowerCase(Locale.ROOT);
    }

    static String sha256(byte[] content) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
