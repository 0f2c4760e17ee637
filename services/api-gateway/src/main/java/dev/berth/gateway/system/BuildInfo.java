package dev.berth.gateway.system;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * What this build of Berth is: its version and build time, stamped into berth-build.properties by Maven.
 */
public record BuildInfo(String version, String buildTime) {

    public static BuildInfo load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getClassLoader().getResourceAsStream("berth-build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // an unreadable stamp only costs the version string; the gateway still serves
        }
        return new BuildInfo(stamped(p, "version", "0.0.0-dev"), stamped(p, "build-time", ""));
    }

    private static String stamped(Properties p, String key, String fallback) {
        String v = p.getProperty(key);
        return v == null || v.isBlank() || v.startsWith("${") ? fallback : v;
    }

    /**
     * The engine version reported to clients: Docker's release for our newest API, with Berth's version as
     * build metadata (as Debian reports "20.10.24+dfsg1"). Testcontainers refuses servers older than 1.6.0,
     * so Berth's own 0.x version cannot stand alone here.
     */
    public String engineVersion() {
        return dev.berth.gateway.api.ApiVersion.ENGINE_COMPAT_VERSION + "+berth." + version;
    }

    /** The Server header: {@code Berth/<version> (linux)}. */
    public String serverHeader() {
        return "Berth/" + version + " (linux)";
    }
}
