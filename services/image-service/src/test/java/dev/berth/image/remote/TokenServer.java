package dev.berth.image.remote;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A Docker registry token server (the protocol of Docker Hub's auth.docker.io): {@code GET /token?service=&scope=}
 * with optional basic credentials answers {@code {"token","access_token"}}, a JWT signed RS256 with a key whose
 * certificate the registry trusts ({@code rootcertbundle}). Known credentials get the actions they ask for, anonymous
 * callers none, wrong credentials 401 {@code {"details":"incorrect username or password"}} as Docker Hub answers.
 */
final class TokenServer implements AutoCloseable {

    static final String SERVICE = "berth-test-registry";
    static final String ISSUER = "berth-test-issuer";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final PrivateKey key;
    private final String keyId;
    private final String user;
    private final String password;
    final Path rootCertificate;

    private TokenServer(HttpServer server, PrivateKey key, PublicKey publicKey, Path rootCertificate, String user,
                        String password) throws Exception {
        this.server = server;
        this.key = key;
        this.keyId = libtrustKeyId(publicKey);
        this.rootCertificate = rootCertificate;
        this.user = user;
        this.password = password;
    }

    String realm() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
    }

    /** The registry's {@code auth:} section for this server. */
    String registryAuth() {
        return "  token:\n    realm: " + realm() + "\n    service: " + SERVICE + "\n    issuer: " + ISSUER
                + "\n    rootcertbundle: " + rootCertificate + "\n";
    }

    /** Makes a key pair and a self-signed certificate with the JDK's keytool, then listens on a free port. */
    static TokenServer start(Path dir, String user, String password) throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Path store = dir.resolve("token.p12");
        Path pem = dir.resolve("root.pem");
        run(List.of(keytool.toString(), "-genkeypair", "-alias", "token", "-keyalg", "RSA", "-keysize", "2048",
                "-dname", "CN=berth-test-token", "-validity", "2", "-storetype", "PKCS12", "-keystore",
                store.toString(), "-storepass", "changeit", "-keypass", "changeit"));
        run(List.of(keytool.toString(), "-exportcert", "-rfc", "-alias", "token", "-keystore", store.toString(),
                "-storepass", "changeit", "-file", pem.toString()));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, "changeit".toCharArray());
        }
        PrivateKey key = (PrivateKey) ks.getKey("token", "changeit".toCharArray());
        PublicKey publicKey = ks.getCertificate("token").getPublicKey();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        TokenServer tokens = new TokenServer(server, key, publicKey, pem, user, password);
        server.createContext("/token", tokens::handle);
        server.start();
        return tokens;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            boolean known = false;
            if (auth != null) {
                String expected = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                        .getBytes(StandardCharsets.UTF_8));
                if (!auth.equals(expected)) {
                    reply(exchange, 401, "{\"details\":\"incorrect username or password\"}");
                    return;
                }
                known = true;
            }
            ArrayNode access = JSON.createArrayNode();
            String scope = query.get("scope");
            if (known && scope != null) {
                String[] parts = scope.split(":");
                ObjectNode a = access.addObject();
                a.put("type", parts[0]);
                a.put("name", parts[1]);
                ArrayNode actions = a.putArray("actions");
                for (String action : parts[2].split(",")) {
                    actions.add(action);
                }
            }
            if (!SERVICE.equals(query.get("service"))) {
                reply(exchange, 400, "{\"details\":\"unknown service\"}");
                return;
            }
            String token = jwt(known ? user : "", access);
            reply(exchange, 200, "{\"token\":\"" + token + "\",\"access_token\":\"" + token + "\",\"expires_in\":300}");
        } catch (Exception e) {
            reply(exchange, 500, "{\"details\":\"" + e + "\"}");
        }
    }

    private String jwt(String subject, ArrayNode access) throws Exception {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        ObjectNode header = JSON.createObjectNode();
        header.put("typ", "JWT");
        header.put("alg", "RS256");
        header.put("kid", keyId);
        long now = System.currentTimeMillis() / 1000;
        ObjectNode claims = JSON.createObjectNode();
        claims.put("iss", ISSUER);
        claims.put("sub", subject);
        claims.put("aud", SERVICE);
        claims.put("exp", now + 300);
        claims.put("nbf", now - 10);
        claims.put("iat", now);
        claims.put("jti", UUID.randomUUID().toString());
        claims.set("access", access);
        String signingInput = b64.encodeToString(JSON.writeValueAsBytes(header)) + "."
                + b64.encodeToString(JSON.writeValueAsBytes(claims));
        Signature rsa = Signature.getInstance("SHA256withRSA");
        rsa.initSign(key);
        rsa.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        return signingInput + "." + b64.encodeToString(rsa.sign());
    }

    /** docker/libtrust's key id: base32 of the first 240 bits of sha256(DER public key), in groups of four. */
    static String libtrustKeyId(PublicKey key) throws Exception {
        byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        StringBuilder b32 = new StringBuilder();
        int buffer = 0;
        int bits = 0;
        for (int i = 0; i < 30; i++) {
            buffer = buffer << 8 | hash[i] & 0xff;
            bits += 8;
            while (bits >= 5) {
                b32.append(alphabet.charAt(buffer >> (bits - 5) & 31));
                bits -= 5;
            }
        }
        StringBuilder id = new StringBuilder();
        for (int i = 0; i < b32.length(); i += 4) {
            if (i > 0) {
                id.append(':');
            }
            id.append(b32, i, i + 4);
        }
        return id.toString();
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    out.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static void run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
