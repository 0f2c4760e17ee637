package dev.berth.node.images;

import dev.berth.events.node.NodeContainerSpec;
import dev.berth.node.snapshot.OverlaySnapshotter;
import dev.berth.node.snapshot.Snapshotter;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.regex.Pattern;

/**
 * Makes an image's layers present on this node: for each layer chain the snapshotter does not have, fetches the blob
 * from the registry API ({@code GET {registry}/v2/{repository}/blobs/{digest}}, redirects followed), checks its
 * digest while it is written to a temporary file, and unpacks it on its parent chain. A layer wanted by several
 * creates at once is fetched once; the others wait for it.
 *
 * <p>Failure modes: {@link ImageException} with the status to answer; nothing of a failed layer stays (the temporary
 * file is deleted, the snapshotter keeps nothing of a failed unpack). Layers unpacked before the failure stay: they
 * are valid and shared.
 */
public final class LayerFetcher {
    private static final Logger LOG = Logger.getLogger(LayerFetcher.class);
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    /** The distribution spec's repository name, optionally behind a registry host (no "." or ".." parts). */
    private static final Pattern REPOSITORY = Pattern.compile(
            "(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?/)?"
                    + "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");

    private final URI registry;
    private final Snapshotter snapshotter;
    private final Path tmpDir;
    private final HttpClient http;
    private final Map<String, CompletableFuture<String>> inProgress = new ConcurrentHashMap<>();

    /**
     * @param registry base URL of the registry API, e.g. {@code http://127.0.0.1:7101}
     * @param tmpDir   where blobs are downloaded before they are unpacked (on the state root's file system)
     */
    public LayerFetcher(URI registry, Snapshotter snapshotter, Path tmpDir) throws IOException {
        this.registry = URI.create(registry.toString().replaceAll("/+$", "") + "/");
        this.snapshotter = snapshotter;
        this.tmpDir = Files.createDirectories(tmpDir);
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NORMAL)
                .build();
    }

    /**
     * Ensures every layer is unpacked and returns the chain id of the topmost (null for an image without layers).
     *
     * @throws ImageException with the status to answer
     */
    public String ensure(String repository, List<NodeContainerSpec.Layer> layers) throws IOException {
        String chain = null;
        for (NodeContainerSpec.Layer layer : layers) {
            if (layer == null || layer.diffId() == null || !DIGEST.matcher(layer.diffId()).matches()) {
                throw new ImageException(400, "invalid layer diffId " + (layer == null ? null : layer.diffId())
                        + " of image " + repository);
            }
            String parent = chain;
            chain = OverlaySnapshotter.chainId(parent, layer.diffId());
            if (snapshotter.has(chain)) {
                continue;
            }
            String wanted = chain;
            CompletableFuture<String> mine = new CompletableFuture<>();
            CompletableFuture<String> running = inProgress.putIfAbsent(chain, mine);
            if (running != null) {
                await(running);
                continue;
            }
            try {
                if (!snapshotter.has(wanted)) {
                    fetchAndUnpack(repository, parent, layer);
                }
                mine.complete(wanted);
            } catch (IOException | RuntimeException e) {
                mine.completeExceptionally(e);
                throw e;
            } finally {
                inProgress.remove(wanted, mine);
            }
        }
        return chain;
    }

    private static void await(CompletableFuture<String> f) throws IOException {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageException(500, "interrupted while waiting for a layer", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new ImageException(500, e.getCause().toString(), e.getCause());
        }
    }

    private void fetchAndUnpack(String repository, String parent, NodeContainerSpec.Layer layer) throws IOException {
        if (repository == null || !REPOSITORY.matcher(repository).matches()) {
            throw new ImageException(400, "invalid repository name \"" + repository + "\"");
        }
        if (layer.digest() == null || !DIGEST.matcher(layer.digest()).matches()) {
            throw new ImageException(400, "invalid layer digest " + layer.digest() + " of image " + repository);
        }
        URI uri = registry.resolve("v2/" + repository + "/blobs/" + layer.digest());
        Path tmp = Files.createTempFile(tmpDir, "blob-", ".tmp");
        try {
            download(uri, layer, tmp);
            try (InputStream in = Files.newInputStream(tmp)) {
                snapshotter.unpack(parent, layer.diffId(), in);
            } catch (Snapshotter.LayerException e) {
                throw new ImageException(500, "cannot unpack layer " + layer.digest() + " of " + repository + ": "
                        + e.getMessage(), e);
            }
            LOG.infof("layer %s of %s unpacked (%d bytes)", layer.digest(), repository, Files.size(tmp));
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private void download(URI uri, NodeContainerSpec.Layer layer, Path tmp) throws IOException {
        HttpRequest req = HttpRequest.newBuilder(uri).GET().timeout(Duration.ofMinutes(30)).build();
        HttpResponse<InputStream> resp;
        try {
            resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        } catch (ConnectException e) {
            throw new ImageException(502, "cannot reach the registry at " + registry + " for " + uri + ": "
                    + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageException(500, "interrupted while fetching " + uri, e);
        } catch (IOException e) {
            throw new ImageException(502, "GET " + uri + " failed: " + e.getMessage(), e);
        }
        try (InputStream body = resp.body()) {
            if (resp.statusCode() == 404) {
                throw new ImageException(404, "blob " + layer.digest() + " not found in the registry (GET " + uri + ")");
            }
            if (resp.statusCode() != 200) {
                String text = new String(body.readNBytes(512));
                throw new ImageException(502, "GET " + uri + " answered " + resp.statusCode() + ": " + text);
            }
            MessageDigest sha = sha256();
            long size = 0;
            try (OutputStream out = Files.newOutputStream(tmp)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = body.read(buf)) > 0; ) {
                    sha.update(buf, 0, n);
                    out.write(buf, 0, n);
                    size += n;
                }
            }
            String got = "sha256:" + HexFormat.of().formatHex(sha.digest());
            if (!got.equals(layer.digest())) {
                throw new ImageException(500, "blob " + layer.digest() + " from " + uri + " has digest " + got
                        + " (" + size + " bytes): refusing it");
            }
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
