package dev.berth.gateway.auth;

import dev.berth.gateway.config.GatewayConfig;
import jakarta.enterprise.context.ApplicationScoped;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Maps the credentials of a request to its tenant.
 *
 * <p>Without a token file every request is tenant {@value #DEFAULT_TENANT}. With one, a request must carry
 * {@code Authorization: Bearer <token>} (or {@code Basic} with the token as password, which is what registry
 * clients send after a 401); anything else is refused. The file is re-read when its modification time changes,
 * so tokens can be rotated without a restart; a file that becomes unreadable or malformed keeps the last good
 * set in force (and says so in the log), while a file that is unusable at startup stops the gateway from
 * starting, so it never silently runs open.
 */
@ApplicationScoped
public class Tenants {

    public static final String DEFAULT_TENANT = "default";
    private static final Logger LOG = Logger.getLogger(Tenants.class);
    private static final Pattern TENANT = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");

    /** The outcome of checking a request's credentials. */
    public sealed interface Decision {
        record Allowed(String tenant) implements Decision {
        }

        record Refused(String message) implements Decision {
        }
    }

    private final Path file;
    private volatile Snapshot snapshot;

    private record Snapshot(FileTime modified, Map<String, String> tenantByTokenHash) {
    }

    public Tenants(GatewayConfig config) {
        this.file = config.auth().tokensFile().orElse(null);
        if (file != null) {
            snapshot = load(file);
            LOG.infof("Docker API authentication on: %d token(s) from %s", snapshot.tenantByTokenHash.size(), file);
        }
    }

    /** Whether requests must carry a token at all. */
    public boolean enabled() {
        return file != null;
    }

    /**
     * Decides who sends a request.
     *
     * @param authorization the request's Authorization header, or null
     * @return the tenant, or a refusal with a message for the client (401)
     */
    public Decision authenticate(String authorization) {
        if (file == null) {
            return new Decision.Allowed(DEFAULT_TENANT);
        }
        if (authorization == null || authorization.isBlank()) {
            return new Decision.Refused("authentication required: send the header \"Authorization: Bearer <token>\"");
        }
        String token = tokenOf(authorization.trim());
        if (token == null) {
            return new Decision.Refused("unsupported authorization scheme: use \"Authorization: Bearer <token>\"");
        }
        String tenant = current().tenantByTokenHash.get(hash(token));
        return tenant == null ? new Decision.Refused("invalid token") : new Decision.Allowed(tenant);
    }

    private static String tokenOf(String authorization) {
        int space = authorization.indexOf(' ');
        if (space < 0) {
            return null;
        }
        String scheme = authorization.substring(0, space);
        String value = authorization.substring(space + 1).trim();
        if (scheme.equalsIgnoreCase("Bearer")) {
            return value;
        }
        if (scheme.equalsIgnoreCase("Basic")) {
            try {
                String decoded = new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8);
                int colon = decoded.indexOf(':');
                return colon < 0 ? null : decoded.substring(colon + 1);
            } catch (IllegalArgumentException notBase64) {
                return null;
            }
        }
        return null;
    }

    private Snapshot current() {
        Snapshot known = snapshot;
        FileTime modified;
        try {
            modified = Files.getLastModifiedTime(file);
        } catch (IOException e) {
            return known;
        }
        if (!modified.equals(known.modified)) {
            synchronized (this) {
                if (snapshot == known) {
                    try {
                        snapshot = load(file);
                        LOG.infof("Reloaded %d token(s) from %s", snapshot.tenantByTokenHash.size(), file);
                    } catch (RuntimeException e) {
                        // remembered as seen, so a broken file is reported once, not on every request
                        snapshot = new Snapshot(modified, known.tenantByTokenHash);
                        LOG.errorf("Keeping the previous tokens: cannot reload %s: %s", file, e.getMessage());
                    }
                }
            }
        }
        return snapshot;
    }

    private static Snapshot load(Path file) {
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            Map<String, String> byHash = new HashMap<>();
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] fields = line.split("\\s+");
                if (fields.length != 2) {
                    throw new IllegalArgumentException(file + " line " + (i + 1) + ": expected \"<token> <tenant>\"");
                }
                if (!TENANT.matcher(fields[1]).matches()) {
                    throw new IllegalArgumentException(file + " line " + (i + 1) + ": tenant \"" + fields[1]
                            + "\" must match " + TENANT.pattern());
                }
                if (byHash.put(hash(fields[0]), fields[1]) != null) {
                    throw new IllegalArgumentException(file + " line " + (i + 1) + ": token listed twice");
                }
            }
            return new Snapshot(modified, Map.copyOf(byHash));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the tokens file " + file, e);
        }
    }

    // Tokens are looked up by digest so the lookup's timing says nothing about how much of a guess was right.
    private static String hash(String token) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
