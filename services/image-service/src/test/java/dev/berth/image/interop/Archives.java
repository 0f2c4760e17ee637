package dev.berth.image.interop;

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
import java.util.List;
import java.util.Map;

/** Tars the interop tests make and read: busybox root filesystems, build contexts, save archives. */
final class Archives {

    private Archives() {
    }

    /**
     * A busybox root filesystem: /bin/busybox from the host with /bin/sh and /bin/cat linking to it, and
     * /etc/hello.txt holding the text.
     */
    static byte[] rootfs(String hello) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            dir(tar, "bin/");
            file(tar, "bin/busybox", Files.readAllBytes(Path.of("/bin/busybox")), 0755);
            for (String applet : List.of("sh", "cat")) {
                symlink(tar, "bin/" + applet, "busybox");
            }
            dir(tar, "etc/");
            file(tar, "etc/hello.txt", hello.getBytes(StandardCharsets.UTF_8), 0644);
        }
        return bytes.toByteArray();
    }

    /** A tar of the given entries in order: a byte[] is a file, a {@link Link} a symbolic or hard link. */
    static byte[] tar(Map<String, ?> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (var e : entries.entrySet()) {
                if (e.getValue() instanceof Link l) {
                    TarArchiveEntry link = new TarArchiveEntry(e.getKey(),
                            l.hard() ? TarArchiveEntry.LF_LINK : TarArchiveEntry.LF_SYMLINK);
                    link.setLinkName(l.target());
                    tar.putArchiveEntry(link);
                    tar.closeArchiveEntry();
                } else {
                    file(tar, e.getKey(), (byte[]) e.getValue(), 0644);
                }
            }
        }
        return bytes.toByteArray();
    }

    record Link(String target, boolean hard) {
    }

    /** Every entry of a tar: regular files with their content, links as {@link Link}. */
    static Map<String, Object> read(byte[] archive) throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new ByteArrayInputStream(archive))) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                if (e.isFile()) {
                    out.put(e.getName(), tar.readAllBytes());
                } else if (e.isSymbolicLink() || e.isLink()) {
                    out.put(e.getName(), new Link(e.getLinkName(), e.isLink()));
                }
            }
        }
        return out;
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
        d.setMode(040755);
        tar.putArchiveEntry(d);
        tar.closeArchiveEntry();
    }

    private static void symlink(TarArchiveOutputStream tar, String name, String target) throws IOException {
        TarArchiveEntry l = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
        l.setLinkName(target);
        tar.putArchiveEntry(l);
        tar.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream tar, String name, byte[] content, int mode) throws IOException {
        TarArchiveEntry f = new TarArchiveEntry(name);
        f.setSize(content.length);
        f.setMode(0100000 | mode);
        tar.putArchiveEntry(f);
        tar.write(content);
        tar.closeArchiveEntry();
    }
}
