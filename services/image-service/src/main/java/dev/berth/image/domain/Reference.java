package dev.berth.image.domain;

import dev.berth.events.DomainException;

import java.util.regex.Pattern;

/**
 * An image reference {@code [domain/]path[:tag]}, parsed and normalised as Docker's distribution/reference package
 * does, and shown in Docker's familiar form: {@code docker.io/library/x:1} is {@code x:1}, {@code docker.io/foo/x}
 * is {@code foo/x}, a reference with another registry keeps it ({@code 127.0.0.1:5000/bb:1}).
 *
 * @param repository the familiar repository name ({@code busybox}, {@code foo/bar}, {@code 127.0.0.1:5000/bb})
 * @param tag        the tag ({@code latest} when none was given)
 */
public record Reference(String repository, String tag) {

    public static final String DEFAULT_TAG = "latest";
    private static final String COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
    private static final String DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private static final Pattern DOMAIN = Pattern.compile(DOMAIN_COMPONENT + "(?:\\." + DOMAIN_COMPONENT + ")*(?::[0-9]+)?");
    private static final Pattern PATH = Pattern.compile(COMPONENT + "(?:/" + COMPONENT + ")*");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern ANY_CASE_PATH = Pattern.compile(COMPONENT.replace("a-z", "a-zA-Z") + "(?:/"
            + COMPONENT.replace("a-z", "a-zA-Z") + ")*");
    private static final Pattern HEX64 = Pattern.compile("[a-f0-9]{64}");

    /** {@code repository:tag}, the form Docker lists in RepoTags. */
    public String familiar() {
        return repository + ":" + tag;
    }

    @Override
    public String toString() {
        return familiar();
    }

    /**
     * Parses a reference that may carry a tag ({@code x}, {@code x:1}, {@code docker.io/library/x:1}).
     * A digest ({@code @sha256:...}) is refused: Berth keeps no repository digests yet.
     *
     * @throws DomainException 400 {@code invalid reference format...} as Docker words it
     */
    public static Reference parse(String value) {
        if (value == null || value.isEmpty()) {
            throw DomainException.badRequest("invalid reference format");
        }
        if (value.contains("@")) {
            throw DomainException.badRequest("invalid reference format: digest references are not supported");
        }
        String name = value;
        String tag = DEFAULT_TAG;
        int slash = value.lastIndexOf('/');
        int colon = value.lastIndexOf(':');
        if (colon > slash) {
            name = value.substring(0, colon);
            tag = value.substring(colon + 1);
            if (!TAG.matcher(tag).matches()) {
                throw DomainException.badRequest("invalid reference format");
            }
        }
        return new Reference(repository(name), tag);
    }

    /**
     * Normalises a repository name without tag (the {@code repo} parameter of {@code POST /images/{name}/tag}).
     *
     * @throws DomainException 400 for a name Docker refuses
     */
    public static String repository(String name) {
        if (name == null || name.isEmpty()) {
            throw DomainException.badRequest("invalid reference format");
        }
        if (HEX64.matcher(name).matches()) {
            throw DomainException.badRequest("invalid repository name (" + name
                    + "), cannot specify 64-byte hexadecimal strings");
        }
        String domain = null;
        String path = name;
        int slash = name.indexOf('/');
        if (slash > 0) {
            String first = name.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost")
                    || !first.equals(first.toLowerCase())) {
                domain = first;
                path = name.substring(slash + 1);
            }
        }
        if (domain != null && !DOMAIN.matcher(domain).matches()) {
            throw DomainException.badRequest("invalid reference format");
        }
        if (!PATH.matcher(path).matches()) {
            if (ANY_CASE_PATH.matcher(path).matches()) {
                throw DomainException.badRequest("invalid reference format: repository name (" + path
                        + ") must be lowercase");
            }
            throw DomainException.badRequest("invalid reference format");
        }
        if (name.length() > 255) {
            throw DomainException.badRequest("invalid reference format: repository name must not be more than 255 characters");
        }
        if (domain == null || domain.equals("docker.io") || domain.equals("index.docker.io")) {
            return path.startsWith("library/") && path.indexOf('/', 8) < 0 ? path.substring(8) : path;
        }
        return domain + "/" + path;
    }

    /**
     * Checks a tag.
     *
     * @throws DomainException 400 {@code invalid tag format}
     */
    public static String tag(String tag) {
        if (tag == null || tag.isEmpty()) {
            return DEFAULT_TAG;
        }
        if (!TAG.matcher(tag).matches()) {
            throw DomainException.badRequest("invalid tag format");
        }
        return tag;
    }
}
