package dev.berth.container.projection;

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
 * Image resolution that reads its own writes across services. The image projection is fed from Kafka, so an image
 * imported a moment ago (`docker import x && docker run x`) may not have reached it yet. On a miss, image-service,
 * which owns images, is asked; if it knows the image, resolution waits for the projection to catch up instead of
 * answering 404 (which would make the CLI try to pull).
 */
@ApplicationScoped
public class FreshImages {

    private static final Logger LOG = Logger.getLogger(FreshImages.class);

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
     * As {@link ImageCatalog#resolve}, but a reference image-service knows is waited for.
     *
     * @throws DomainException 404 {@code No such image: x} when image-service does not know it either, or the
     *                         projection did not catch up within {@code berth.images.catch-up}; 400 as resolve
     */
    public Uni<ImageCatalog.ImageRecord> resolve(String tenant, String reference) {
        return catalog.resolve(tenant, reference)
                .onFailure(FreshImages::notFound).recoverWithUni(miss -> knownToImageService(tenant, reference)
                        .chain(known -> known ? awaitProjection(tenant, reference)
                                : Uni.createFrom().failure(miss)));
    }

    private Uni<ImageCatalog.ImageRecord> awaitProjection(String tenant, String reference) {
        return catalog.resolve(tenant, reference)
                .onFailure(FreshImages::notFound).retry()
                .withBackOff(Duration.ofMillis(20), Duration.ofMillis(200)).expireIn(catchUp.toMillis());
    }

    private Uni<Boolean> knownToImageService(String tenant, String reference) {
        HttpRequest request;
        try {
            request = HttpRequest.newBuilder(URI.create(imageService + "/images/" + reference + "/json"))
                    .header(dev.berth.engineapi.Tenants.HEADER, tenant).timeout(Duration.ofSeconds(5)).GET().build();
        } catch (IllegalArgumentException e) {
            return Uni.createFrom().item(false);
        }
        return Uni.createFrom().completionStage(() -> http.sendAsync(request, HttpResponse.BodyHandlers.discarding()))
                .map(r -> r.statusCode() == 200)
                .onFailure().recoverWithItem(e -> {
                    LOG.debugf("image-service not reachable for %s: %s", reference, e.toString());
                    return false;
                });
    }

    private static boolean notFound(Throwable e) {
        return e instanceof DomainException d && d.status() == 404;
    }
}
