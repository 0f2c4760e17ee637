package dev.berth.image.api;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/** Archives built in the tests: a busybox-static rootfs, and save archives in both layouts. */
final class Tars {

    /** Entries carry this time, not the clock's: one content, one diff id, whenever the tar is made. */
    private static final java.util.Date FIXED = new java.util.Date(1_767_225_600_000L);

    private Tars() {
    }

    /** A rootfs: /bin/busybox from the host, /bin/sh linking to it, and /etc/hello.txt with the given text. */
    static byte[] rootfs(String hello) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            dir(tar, "bin/");
            byte[] busybox = Files.readAllBytes(Path.of("/bin/busybox"));
            file(tar, "bin/busybox", busybox, 0755);
            TarArchiveEntry sh = new TarArchiveEntry("bin/sh", TarArchiveEntry.LF_SYMLINK);
            sh.setLinkName("busybox");
            sh.setModTime(FIXED);
            tar.putArchiveEntry(sh);
            tar.closeArchiveEntry();
            dir(tar, "etc/");
            file(tar, "etc/hello.txt", hello.getBytes(StandardCharsets.UTF_8), 0644);
        }
        return bytes.toByteArray();
    }

    /** A tar of named files (in order). */
    static byte[] tar(Map<String, byte[]> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (var e : files.entrySet()) {
                file(tar, e.getKey(), e.getValue(), 0644);
            }
        }
        return bytes.toByteArray();
    }

    /** The regular files of a tar, by name. */
    static Map<String, byte[]> read(byte[] archive) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new ByteArrayInputStream(archive))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                if (e.isFile()) {
                    out.put(e.getName(), tar.readAllBytes());
                }
            }
        }
        return out;
    }

    static byte[] gzip(byte[] content) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(content);
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

    private static void dir(TarArchiveOutputStream tar, String name) throws IOException {
        TarArchiveEntry d = new TarArchiveEntry(name);
        d.setModTime(FIXED);
        d.setMode(040755);
        tar.putArchiveEntry(d);
        tar.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream tar, String name, byte[] content, int mode) throws IOException {
        TarArchiveEntry f = new TarArchiveEntry(name);
        f.setModTime(FIXED);
        f.setSize(content.length);
        f.setMode(0100000 | mode);
        tar.putArchiveEntry(f);
        tar.write(content);
        tar.closeArchiveEntry();
    }
}
