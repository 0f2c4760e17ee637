package dev.berth.engineapi;

import dev.berth.events.DomainException;

import java.util.regex.Pattern;

/**
 * The tenant of a request, as the gateway passes it in {@code X-Berth-Tenant} after authenticating the caller. A
 * request without the header belongs to the {@value #DEFAULT} tenant.
 */
public final class Tenants {

    /** The request header that carries the tenant. */
    public static final String HEADER = "X-Berth-Tenant";
    /** The tenant of requests that name none. */
    public static final String DEFAULT = "default";

    // A tenant name ends up in on-disk paths (volume mountpoints), so it must be one safe path segment.
    private static final Pattern VALID = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");

    private Tenants() {
    }

    /**
     * @param header the header value; null or blank means the default tenant; surrounding spaces are ignored
     * @return the tenant name: 1 to 128 characters of {@code [a-zA-Z0-9_.-]}, not starting with {@code _ . -}
     * @throws DomainException 400 {@code invalid tenant "<value>"} when the value could not be a tenant name
     */
    public static String of(String header) {
        if (header == null || header.isBlank()) {
            return DEFAULT;
        }
        String tenant = header.trim();
        if (!VALID.matcher(tenant).matches()) {
            throw DomainException.badRequest("invalid tenant \"" + tenant + "\"");
        }
        return tenant;
    }
}
