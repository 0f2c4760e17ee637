package dev.berth.image.remote;

import dev.berth.events.DomainException;
import dev.berth.image.domain.Reference;

import java.util.regex.Pattern;

/**
 * An image reference as a registry sees it: the registry's domain, the repository path inside it, and a tag or a
 * digest. Docker's defaults apply: no domain means Docker Hub ({@code docker.io}, served at
 * {@code registry-1.docker.io}), and a one-component Hub path gets {@code library/}.
 *
 * @param domain the registry as written ({@code docker.io}, {@code 127.0.0.1:5000}, {@code localhost:5000})
 * @param path   the repository inside the registry ({@code library/busybox}, {@code bb})
 * @param tag    the tag, or null when the reference is a digest
 * @param digest {@code sha256:<hex>}, or null when the reference is a tag
 */
public record RemoteReference(String domain, String path, String tag, String digest) {

    public static final String DOCKER_HUB = "docker.io";
    private static final Pattern DIGEST = Pattern.compile("sha256:[a-f0-9]{64}");

    /**
     * The reference of {@code POST /images/create?fromImage=&tag=}: {@code tag} may be a tag or a digest (the CLI
     * sends a digest there for {@code docker pull x@sha256:...}), and {@code fromImage} may carry either itself.
     *
     * @throws DomainException 400 {@code invalid reference format} for a name Docker refuses
     */
    public static RemoteReference parse(String fromImage, String tag) {
        String name = fromImage;
        String digest = null;
        String t = null;
        int at = name.indexOf('@');
        if (at >= 0) {
            digest = name.substring(at + 1);
            name = name.substring(0, at);
        } else {
            int slash = name.lastIndexOf('/');
            int colon = name.lastIndexOf(':');
            if (colon > slash) {
                t = name.substring(colon + 1);
                name = name.substring(0, colon);
            }
        }
        if (tag != null && !tag.isEmpty()) {
            if (tag.startsWith("sha256:")) {
                digest = tag;
                t = null;
            } else {
                t = tag;
            }
        }
        if (digest != null) {
            if (!DIGEST.matcher(digest).matches()) {
                throw DomainException.badRequest("invalid reference format: invalid digest " + digest);
            }
        } else {
            t = Reference.tag(t);
        }
        return of(Reference.repository(name), t, digest);
    }

    /** The remote form of a familiar repository name ({@code busybox}, {@code 127.0.0.1:5000/bb}). */
    public static RemoteReference of(String familiarRepository, String tag, String digest) {
        int slash = familiarRepository.indexOf('/');
        String first = slash > 0 ? familiarRepository.substring(0, slash) : "";
        boolean hasDomain = first.contains(".") || first.contains(":") || first.equals("localhost");
        if (hasDomain) {
            return new RemoteReference(first, familiarRepository.substring(slash + 1), tag, digest);
        }
        String path = familiarRepository.contains("/") ? familiarRepository : "library/" + familiarRepository;
        return new RemoteReference(DOCKER_HUB, path, tag, digest);
    }

    /** Where the registry API is served: Docker Hub's API host for {@code docker.io}, the domain otherwise. */
    public String endpoint() {
        return domain.equals(DOCKER_HUB) || domain.equals("index.docker.io") ? "registry-1.docker.io" : domain;
    }

    /** The familiar repository name, as Berth's references keep it ({@code busybox}, {@code 127.0.0.1:5000/bb}). */
    public String familiarName() {
        return Reference.repository(domain.equals(DOCKER_HUB) ? path : domain + "/" + path);
    }

    /** The full repository name Docker prints on a push ({@code docker.io/library/busybox}). */
    public String fullName() {
        return domain + "/" + path;
    }

    /** {@code name:tag} or {@code name@digest}, familiar, as Docker words its messages. */
    public String familiar() {
        return familiarName() + (digest != null ? "@" + digest : ":" + tag);
    }

    /** The tag or digest, as the registry API's manifest path takes it. */
    public String manifestReference() {
        return digest != null ? digest : tag;
    }

    /** The local reference a pull tags, or null for a pull by digest (Berth keeps no digest references). */
    public Reference localReference() {
        return tag == null ? null : new Reference(familiarName(), tag);
    }

    public RemoteReference withTag(String newTag) {
        return new RemoteReference(domain, path, newTag, null);
    }
}
