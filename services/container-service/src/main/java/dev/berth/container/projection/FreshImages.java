package dev.berth.container.projection;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.events.DomainException;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Image resolution that reads its own writes across services. The image projection is fed from Kafka, so it may lag
 * behind image-service, which owns images: an image imported a moment ago (`docker import x && docker run x`) may not
 * have reached it yet, and one removed or re-tagged a moment ago (`docker rmi x && docker run x`, `docker build -t x
 * && docker run x`) may still be there under its old id. So image-service is asked which image the reference names
 * now: unknown there is 404 (the CLI then pulls); known, the projection is waited for until it resolves the reference
 * to that image. When image-service cannot be reached, the projection answers alone (availability over freshness).
 */
@ApplicationScoped
public class FreshImages {

    private static final Logger LOG = Logger.getLogger(FreshImages.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** image-service did not answer: the projection decides. */
    private static final String UNREACHABLE = "";

    private final ImageCatalog catalog;
    private final String imageService;
    private final Duration catchUp;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    public FreshImages(ImageCatalog catalog,
                       @ConfigProperty(name = "berth.images.url", defaultValue = "http://127.0.0.1:7101") String imageService,
                       @ConfigProperty(name = "berth.images.catch-up", defaultValue = "10s") Duration catchUp) {
        this.catalog = catalog;
        this.imageService = imageService;
        this.catchUp = catchUp;
    }

    /**
     * As {@link ImageCatalog#resolve}, but as image-service knows the reference now.
     *
     * @throws DomainException 404 {@code No such image: x} when image-service does not know it (or, unreachable, the
     *                         projection does not), or the projection did not catch up within
     *                         {@code berth.images.catch-up}; 400 as resolve
     */
    public Uni<ImageCatalog.ImageRecord> resolve(String tenant, String reference) {
        if (reference == null || reference.isEmpty()) {
            return catalog.resolve(tenant, reference);
        }
        return currentId(tenant, reference).chain(id -> {
            if (id == null) {
                return Uni.createFrom().failure(DomainException.notFound("No such image: " + reference));
            }
            if (id.equals(UNREACHABLE)) {
                return catalog.resolve(tenant, reference);
            }
            return awaitProjection(tenant, reference, id);
        });
    }

    private Uni<ImageCatalog.ImageRecord> awaitProjection(String tenant, String reference, String id) {
        return catalog.resolve(tenant, reference)
                .invoke(r -> {
                    if (!r.id().equals(id)) {
                        throw DomainException.notFound("No such image: " + reference);
                    }
                })
                .onFailure(FreshImages::notFound).retry()
                .withBackOff(Duration.ofMillis(20), Duration.ofMillis(200)).expireIn(catchUp.toMillis());
    }

    /** The id image-service resolves the reference to; null when it does not know it; {@link #UNREACHABLE}. */
    private Uni<String> currentId(String tenant, String reference) {
        HttpRequest request;
        try {
            request = HttpRequest.newBuilder(URI.create(imageService + "/images/" + reference + "/json"))
                    .header(dev.berth.engineapi.Tenants.HEADER, tenant).timeout(Duration.ofSeconds(5)).GET().build();
        } catch (IllegalArgumentException e) {
            // not a URI image-service could be asked about: the projection gives resolve's own answer
            return Uni.createFrom().item(UNREACHABLE);
        }
        return Uni.createFrom().completionStage(() -> http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()))
                .map(r -> {
                    if (r.statusCode() == 404) {
                        return null;
                    }
                    if (r.statusCode() != 200) {
                        return UNREACHABLE;
                    }
                    try {
                        String id = JSON.readTree(r.body()).path("Id").asText("");
                        return id.isEmpty() ? UNREACHABLE : id;
                    } catch (java.io.IOException e) {
                        return UNREACHABLE;
                    }
                })
                .onFailure().recoverWithItem(e -> {
                    LOG.debugf("image-service not reachable for %s: %s", reference, e.toString());
                    return UNREACHABLE;
                });
    }

    private static boolean notFound(Throwable e) {
        return e instanceof DomainException d && d.status() == 404;
    }
}
