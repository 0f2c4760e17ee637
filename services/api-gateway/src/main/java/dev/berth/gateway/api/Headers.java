package dev.berth.gateway.api;

/**
 * Header names the gateway adds or reads. The two X-Berth headers are the contract with the services: they are
 * always set by the gateway, never taken from a client.
 */
public final class Headers {

    /** The tenant a proxied request belongs to, set from the caller's token (or "default"). */
    public static final String TENANT = "X-Berth-Tenant";
    /** The Docker API version the client asked for (services see unversioned paths). */
    public static final String API_VERSION_TO_SERVICES = "X-Berth-Api-Version";

    public static final String API_VERSION = "Api-Version";
    public static final String OSTYPE = "Ostype";
    public static final String DOCKER_EXPERIMENTAL = "Docker-Experimental";

    private Headers() {
    }
}
