package dev.berth.image.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * An image made in a test as a client would push it: layers (tars, gzip'd as registries carry them), a config that
 * lists their diff ids, and a manifest of the chosen media type.
 */
record TestImage(List<byte[]> tars, List<byte[]> blobs, byte[] config, byte[] manifest) {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String DOCKER_V2 = "application/vnd.docker.distribution.manifest.v2+json";
    static final String OCI = "application/vnd.oci.image.manifest.v1+json";

    /** An image of one gzip layer holding {@code /hello.txt} with the text. */
    static TestImage of(String text, String mediaType) throws IOException {
        return of(List.of(tar("hello.txt", text)), mediaType, true);
    }

    static TestImage of(List<byte[]> tars, String mediaType, boolean gzip) throws IOException {
        List<byte[]> blobs = tars.stream().map(t -> gzip ? gzip(t) : t).toList();
        ObjectNode c = JSON.createObjectNode();
        c.put("architecture", "amd64");
        c.put("os", "linux");
        c.put("created", "2026-01-02T03:04:05.123456789Z");
        ObjectNode cc = c.putObject("config");
        cc.putArray("Cmd").add("/bin/sh");
        cc.putArray("Env").add("PUSHED=1");
        ObjectNode rootfs = c.putObject("rootfs");
        rootfs.put("type", "layers");
        var ids = rootfs.putArray("diff_ids");
        tars.forEach(t -> ids.add(sha256(t)));
        byte[] config = JSON.writeValueAsBytes(c);
        boolean oci = mediaType.equals(OCI);
        ObjectNode m = JSON.createObjectNode();
        m.put("schemaVersion", 2);
        m.put("mediaType", mediaType);
        ObjectNode cd = m.putObject("config");
        cd.put("mediaType", oci ? "application/vnd.oci.image.config.v1+json"
                : "application/vnd.docker.container.image.v1+json");
        cd.put("size", config.length);
        cd.put("digest", sha256(config));
        var layers = m.putArray("layers");
        for (byte[] b : blobs) {
            ObjectNode l = layers.addObject();
            l.put("mediaType", oci ? "application/vnd.oci.image.layer.v1.tar" + (gzip ? "+gzip" : "")
                    : "application/vnd.docker.image.rootfs.diff.tar" + (gzip ? ".gzip" : ""));
            l.put("size", b.length);
            l.put("digest", sha256(b));
        }
        return new TestImage(tars, blobs, config, JSON.writeValueAsBytes(m));
    }

    String configDigest() {
        return sha256(config);
    }

    String manifestDigest() {
        return sha256(manifest);
    }

    static byte[] tar(String name, String text) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            byte[] content = text.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry f = new TarArchiveEntry(name);
            f.setSize(content.length);
            f.setMode(0100644);
            f.setModTime(1_700_000_000_000L);
            tar.putArchiveEntry(f);
            tar.write(content);
            tar.closeArchiveEntry();
        }
        return bytes.toByteArray();
    }

    static byte[] gzip(byte[] content) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(content);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    static String sha256(byte[] content) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
