package dev.berth.gateway.api;

import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Docker Engine API version ({@code major.minor}), compared numerically so that 1.5 is older than 1.24.
 */
public record ApiVersion(int[] parts, String text) implements Comparable<ApiVersion> {

    /** The newest API this gateway speaks: Docker Engine 28.3. */
    public static final ApiVersion MAX = parse("1.51");
    /** The oldest API still accepted; the docker CLI falls back to it when a ping carries no Api-Version. */
    public static final ApiVersion MIN = parse("1.24");
    /** The Docker Engine release whose API {@link #MAX} is; reported as the engine version. */
    public static final String ENGINE_COMPAT_VERSION = "28.3.0";

    // Docker's router accepts /v{version:[0-9.]+}/...; /v2/ is the registry API and is matched before this.
    private static final Pattern PREFIX = Pattern.compile("^/v([0-9.]+)(/.*)$");

    public static ApiVersion parse(String text) {
        String[] fields = text.split("\\.", -1);
        int[] parts = new int[fields.length];
        for (int i = 0; i < fields.length; i++) {
            parts[i] = fields[i].isEmpty() ? 0 : saturatedInt(fields[i]);
        }
        return new ApiVersion(parts, text);
    }

    private static int saturatedInt(String digits) {
        try {
            return Integer.parseInt(digits);
        } catch (NumberFormatException tooLong) {
            return Integer.MAX_VALUE;
        }
    }

    @Override
    public int compareTo(ApiVersion other) {
        int n = Math.max(parts.length, other.parts.length);
        for (int i = 0; i < n; i++) {
            int a = i < parts.length ? parts[i] : 0;
            int b = i < other.parts.length ? other.parts[i] : 0;
            if (a != b) {
                return Integer.compare(a, b);
            }
        }
        return 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ApiVersion v && compareTo(v) == 0;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(parts);
    }

    @Override
    public String toString() {
        return text;
    }

    /**
     * A request path split into its optional version prefix and the path the services see.
     *
     * @param version the requested version, or null when the path had no prefix
     * @param path    the path without the prefix (always starting with '/')
     */
    public record Split(ApiVersion version, String path) {

        /** The version the request is served with: the requested one, or the newest for unversioned paths. */
        public ApiVersion effective() {
            return version == null ? MAX : version;
        }
    }

    /** Splits {@code /v1.41/containers/json} into 1.41 and {@code /containers/json}; the registry's /v2 is left alone. */
    public static Split split(String path) {
        if (path.equals("/v2") || path.startsWith("/v2/")) {
            return new Split(null, path);
        }
        Matcher m = PREFIX.matcher(path);
        if (m.matches()) {
            return new Split(parse(m.group(1)), m.group(2));
        }
        return new Split(null, path);
    }

    /** Docker's own wording, so clients that parse it (Testcontainers falls back to 1.32 on it) behave the same. */
    public String rejection() {
        if (compareTo(MAX) > 0) {
            return "client version " + text + " is too new. Maximum supported API version is " + MAX;
        }
        if (compareTo(MIN) < 0) {
            return "client version " + text + " is too old. Minimum supported API version is " + MIN
                    + ", please upgrade your client to a newer version";
        }
        return null;
    }
}
