package dev.berth.image.remote;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Opens sessions with registries for pulls and pushes. A registry is reached over HTTPS; an insecure one (Docker's
 * rule: any address in 127.0.0.0/8, plus {@code berth.images.insecure-registries}) is tried over HTTPS first and
 * over plain HTTP when it does not speak TLS, as dockerd does.
 */
@ApplicationScoped
public class RegistryClient {

    private final HttpClient http;
    private final List<String> insecure;

    public RegistryClient(@ConfigProperty(name = "berth.images.insecure-registries")
                          Optional<List<String>> insecureRegistries) {
        this.insecure = insecureRegistries.orElse(List.of());
        // redirects are followed by hand: a blob redirect to a CDN must not carry the registry's credentials
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30))
                .followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1).build();
    }

    /**
     * A session with the registry of {@code reference}, authenticated for its repository.
     *
     * @param push whether the session needs push access (the token scope asks for {@code pull,push})
     * @throws RegistryException when the registry cannot be reached or refuses the credentials
     */
    public RegistrySession open(RemoteReference reference, RegistryCredentials credentials, boolean push) {
        RegistrySession session = new RegistrySession(http, reference, credentials, push, isInsecure(reference.endpoint()));
        session.ping();
        return session;
    }

    /** Docker's insecure-registry rule: loopback addresses, and what the operator listed (host[:port] or CIDR). */
    boolean isInsecure(String endpoint) {
        String host = host(endpoint);
        for (String entry : insecure) {
            String e = entry.trim().toLowerCase(Locale.ROOT);
            if (e.equals(endpoint.toLowerCase(Locale.ROOT)) || e.equals(host.toLowerCase(Locale.ROOT))
                    || e.contains("/") && inCidr(host, e)) {
                return true;
            }
        }
        return host.equals("localhost") || inCidr(host, "127.0.0.0/8") || host.equals("[::1]") || host.equals("::1");
    }

    private static String host(String endpoint) {
        if (endpoint.startsWith("[")) {
            return endpoint.substring(0, endpoint.indexOf(']') + 1);
        }
        int colon = endpoint.lastIndexOf(':');
        return colon > 0 ? endpoint.substring(0, colon) : endpoint;
    }

    /** IPv4 CIDR match of a literal address (names are not resolved: a name is insecure only when listed). */
    private static boolean inCidr(String host, String cidr) {
        if (!host.matches("[0-9.]+")) {
            return false;
        }
        try {
            String[] parts = cidr.split("/");
            byte[] net = InetAddress.getByName(parts[0]).getAddress();
            byte[] addr = InetAddress.getByName(host).getAddress();
            if (net.length != 4 || addr.length != 4) {
                return false;
            }
            int bits = Integer.parseInt(parts[1]);
            int mask = bits == 0 ? 0 : -1 << (32 - bits);
            return (toInt(net) & mask) == (toInt(addr) & mask);
        } catch (UnknownHostException | RuntimeException e) {
            return false;
        }
    }

    private static int toInt(byte[] b) {
        return (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | b[3] & 0xff;
    }
}
