package dev.berth.image.remote;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/** Puts content straight into a registry over the distribution API, as another client (dockerd, skopeo) would. */
final class RawRegistry {

    static final String MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json";
    static final String MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();
    private final String base;

    RawRegistry(DockerRegistry registry) {
        this.base = "http://" + registry.address();
    }

    /** An image made elsewhere: its layer gzip-compressed, as dockerd pushes. */
    record Pushed(String configDigest, String manifestDigest, String diffId, String compressedDigest,
                  byte[] manifest) {
    }

    /** Monolithic upload; returns the digest. */
    String blob(String repo, byte[] content) throws Exception {
        String digest = sha256(content);
        HttpResponse<String> start = http.send(HttpRequest.newBuilder(URI.create(base + "/v2/" + repo + "/blobs/uploads/"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        if (start.statusCode() != 202) {
            throw new IllegalStateException("upload start: " + start.statusCode() + " " + start.body());
        }
        URI location = URI.create(base).resolve(start.headers().firstValue("Location").orElseThrow());
        String put = location + (location.getRawQuery() == null ? "?" : "&") + "digest="
                + URLEncoder.encode(digest, StandardCharsets.UTF_8);
        HttpResponse<String> done = http.send(HttpRequest.newBuilder(URI.create(put))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(content)).build(), HttpResponse.BodyHandlers.ofString());
        if (done.statusCode() != 201) {
            throw new IllegalStateException("upload: " + done.statusCode() + " " + done.body());
        }
        return digest;
    }

    String manifest(String repo, String reference, String mediaType, byte[] content) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v2/" + repo + "/manifests/" + reference))
                .header("Content-Type", mediaType).PUT(HttpRequest.BodyPublishers.ofByteArray(content)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
            throw new IllegalStateException("manifest: " + r.statusCode() + " " + r.body());
        }
        return r.headers().firstValue("Docker-Content-Digest").orElseThrow();
    }

    /** The manifest the registry serves for a tag, and its digest. */
    HttpResponse<byte[]> get(String repo, String reference) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/v2/" + repo + "/manifests/" + reference))
                .header("Accept", MANIFEST_V2).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /**
     * Pushes a one-layer image with a gzip layer.
     *
     * @param diffIdOverride the diff id the config claims (null: the true one), to make a lying image
     */
    Pushed image(String repo, String tag, String architecture, String text, String diffIdOverride) throws Exception {
        byte[] tar = tar("etc/hello.txt", text);
        byte[] gz = gzip(tar);
        String diffId = sha256(tar);
        String compressed = blob(repo, gz);
        ObjectNode config = JSON.createObjectNode();
        config.put("architecture", architecture);
        config.put("os", "linux");
        config.put("created", "2026-01-02T03:04:05.123456789Z");
        config.putObject("config").putArray("Cmd").add("/bin/cat").add("/etc/hello.txt");
        ObjectNode rootfs = config.putObject("rootfs");
        rootfs.put("type", "layers");
        rootfs.putArray("diff_ids").add(diffIdOverride == null ? diffId : diffIdOverride);
        byte[] configBytes = JSON.writeValueAsBytes(config);
        String configDigest = blob(repo, configBytes);
        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", MANIFEST_V2);
        ObjectNode c = m.putObject("config");
        c.put("mediaType", "application/vnd.docker.container.image.v1+json");
        c.put("size", configBytes.length);
        c.put("digest", configDigest);
        ObjectNode l = m.putArray("layers").addObject();
        l.put("mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip");
        l.put("size", gz.length);
        l.put("digest", compressed);
        byte[] manifest = JSON.writeValueAsBytes(m);
        String digest = tag == null ? sha256(manifest) : manifest(repo, tag, MANIFEST_V2, manifest);
        if (tag == null) {
            manifest(repo, digest, MANIFEST_V2, manifest);
        }
        return new Pushed(configDigest, digest, diffId, compressed, manifest);
    }

    /** A manifest list naming images by platform. */
    String list(String repo, String tag, List<Pushed> images, List<String> architectures) throws Exception {
        ObjectNode list = JSON.createObjectNode();
        list.put("schemaVersion", 2);
        list.put("mediaType", MANIFEST_LIST);
        var manifests = list.putArray("manifests");
        for (int i = 0; i < images.size(); i++) {
            ObjectNode d = manifests.addObject();
            d.put("mediaType", MANIFEST_V2);
            d.put("size", images.get(i).manifest().length);
            d.put("digest", images.get(i).manifestDigest());
            ObjectNode p = d.putObject("platform");
            p.put("architecture", architectures.get(i));
            p.put("os", "linux");
        }
        return manifest(repo, tag, MANIFEST_LIST, JSON.writeValueAsBytes(list));
    }

    /**
     * A layer tar: the same bytes for the same arguments (entries carry a fixed time, not the clock's: two tars of one
     * text made a second apart must have one diff id).
     */
    static byte[] tar(String name, String text) throws IOException {
        java.util.Date fixed = new java.util.Date(1_767_225_600_000L);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry dir = new TarArchiveEntry(name.substring(0, name.indexOf('/') + 1));
            dir.setModTime(fixed);
            tar.putArchiveEntry(dir);
            tar.closeArchiveEntry();
            byte[] content = text.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry e = new TarArchiveEntry(name);
            e.setModTime(fixed);
            e.setSize(content.length);
            e.setMode(0100644);
            tar.putArchiveEntry(e);
            tar.write(content);
            tar.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }

    static byte[] gzip(byte[] content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(content);
        }
        return bytes.toByteArray();
    }

    static String sha256(byte[] content) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    }
}
