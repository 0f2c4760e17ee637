package dev.berth.image.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.events.DomainException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * What the client sent in {@code X-Registry-Auth}: base64url JSON of Docker's {@code AuthConfig}
 * ({@code username}, {@code password}, {@code serveraddress}, or an {@code identitytoken} from a previous login, or
 * a {@code registrytoken} to use as the bearer token itself). The CLI sends {@code e30=} ({@code {}}) when it has
 * no credentials.
 */
public record RegistryCredentials(String username, String password, String identityToken, String registryToken) {

    public static final RegistryCredentials NONE = new RegistryCredentials(null, null, null, null);
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Decodes the header; absent or empty means no credentials.
     *
     * @throws DomainException 400 when the header is not base64 JSON (Docker's wording for a bad auth header)
     */
    public static RegistryCredentials fromHeader(String header) {
        if (header == null || header.isBlank()) {
            return NONE;
        }
        String value = header.trim().replace('+', '-').replace('/', '_');
        JsonNode node;
        try {
            node = JSON.readTree(new String(Base64.getUrlDecoder().decode(stripPadding(value)), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException | IOException e) {
            throw DomainException.badRequest("invalid X-Registry-Auth header: " + e.getMessage());
        }
        if (node == null || !node.isObject()) {
            return NONE;
        }
        return new RegistryCredentials(text(node, "username"), text(node, "password"), text(node, "identitytoken"),
                text(node, "registrytoken"));
    }

    /** Whether a user name and password can be sent (basic auth, or to a token server). */
    public boolean hasPassword() {
        return username != null && password != null;
    }

    public String basic() {
        return "Basic " + Base64.getEncoder().encodeToString((username + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
    }

    private static String stripPadding(String s) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == '=') {
            end--;
        }
        return s.substring(0, end);
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() || v.asText().isEmpty() ? null : v.asText();
    }

    @Override
    public String toString() {
        // never print secrets into logs
        return "RegistryCredentials[" + (username == null ? "anonymous" : username) + "]";
    }
}
