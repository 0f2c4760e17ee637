package dev.berth.image.registry;

import java.util.Map;

/**
 * A request the registry API refuses, answered in the distribution spec's form
 * {@code {"errors":[{"code","message","detail"}]}} (see {@link RegistryErrors}).
 */
public class RegistryException extends RuntimeException {

    private final int status;
    private final String code;
    private final transient Object detail;
    private final transient Map<String, String> headers;

    public RegistryException(int status, String code, String message, Object detail) {
        this(status, code, message, detail, Map.of());
    }

    public RegistryException(int status, String code, String message, Object detail, Map<String, String> headers) {
        super(message);
        this.status = status;
        this.code = code;
        this.detail = detail;
        this.headers = headers;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public Object detail() {
        return detail;
    }

    public Map<String, String> headers() {
        return headers;
    }

    public static RegistryException blobUnknown(String digest) {
        return new RegistryException(404, "BLOB_UNKNOWN", "blob unknown to registry", Map.of("digest", digest));
    }

    public static RegistryException uploadUnknown(String id) {
        return new RegistryException(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry",
                Map.of("uuid", id));
    }

    public static RegistryException digestInvalid(String message, String digest) {
        return new RegistryException(400, "DIGEST_INVALID", message, Map.of("digest", String.valueOf(digest)));
    }

    public static RegistryException manifestInvalid(String message) {
        return new RegistryException(400, "MANIFEST_INVALID", "manifest invalid", Map.of("reason", message));
    }

    public static RegistryException manifestUnknown(Map<String, String> detail) {
        return new RegistryException(404, "MANIFEST_UNKNOWN", "manifest unknown", detail);
    }

    public static RegistryException nameInvalid(String name, String reason) {
        return new RegistryException(400, "NAME_INVALID", "invalid repository name",
                Map.of("name", name, "reason", reason));
    }
}
