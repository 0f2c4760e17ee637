package dev.berth.container.node;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;
import java.util.zip.GZIPOutputStream;

/**
 * A busybox-static root filesystem as one image layer in Docker's format (a tar; served gzip-compressed), built from
 * Debian's {@code /bin/busybox}: the binary, a symlink per applet, the usual top directories and a minimal passwd.
 */
public record BusyboxLayer(byte[] tar, byte[] gzipped, String diffId, String digest) {

    private static final Path BUSYBOX = Path.of("/bin/busybox");
    private static final Date EPOCH = new Date(1_704_067_200_000L);

    public static BusyboxLayer build() throws IOException, InterruptedException {
        if (!Files.isExecutable(BUSYBOX)) {
            throw new IllegalStateException(BUSYBOX + " is missing: apt-get install -y busybox-static");
        }
        Process p = new ProcessBuilder(BUSYBOX.toString(), "--list-full").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException("busybox --list-full failed: " + out);
        }
        List<String> applets = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank() && !line.trim().equals("bin/busybox")) {
                applets.add(line.trim());
            }
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (String dir : List.of("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "etc",
                    "var", "home")) {
                dir(tar, dir, dir.equals("proc") || dir.equals("sys") ? 0555 : 0755);
            }
            dir(tar, "tmp", 01777);
            dir(tar, "root", 0700);
            file(tar, "bin/busybox", Files.readAllBytes(BUSYBOX), 0755);
            file(tar, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
                    .getBytes(StandardCharsets.UTF_8), 0644);
            file(tar, "etc/group", "root:x:0:\nnobody:x:65534:\n".getBytes(StandardCharsets.UTF_8), 0644);
            for (String applet : new TreeSet<>(applets)) {
                TarArchiveEntry e = new TarArchiveEntry(applet, TarConstants.LF_SYMLINK);
                e.setLinkName("/bin/busybox");
                e.setModTime(EPOCH);
                tar.putArchiveEntry(e);
                tar.closeArchiveEntry();
            }
        }
        byte[] raw = bytes.toByteArray();
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(gz)) {
            g.write(raw);
        }
        byte[] compressed = gz.toByteArray();
        return new BusyboxLayer(raw, compressed, "sha256:" + sha256(raw), "sha256:" + sha256(compressed));
    }

    private static void dir(TarArchiveOutputStream tar, String name, int mode) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name + "/");
        e.setMode(040000 | mode);
        e.setModTime(EPOCH);
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
    }

    private static void file(TarArchiveOutputStream tar, String name, byte[] content, int mode) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setMode(0100000 | mode);
        e.setSize(content.length);
        e.setModTime(EPOCH);
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
