package dev.berth.node;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.zip.GZIPOutputStream;

/**
 * Test images built on the spot: a busybox-static root filesystem as one layer tar (Docker's layer format), and a
 * builder for small hand-made layers. Needs {@code /bin/busybox} from Debian's busybox-static (a static binary).
 *
 * <p>Stable API for the node-agent tests: {@link #busybox()}, {@link Layer}, {@link #layer()}.
 */
public final class TestImages {
    /** Where the static busybox binary is taken from. */
    public static final Path BUSYBOX = Path.of("/bin/busybox");
    /** The fixed mtime of the test entries (2024-01-01T00:00:00Z), so a layer's diffId does not change per run. */
    public static final long EPOCH_SECONDS = 1_704_067_200L;

    private static volatile Layer busybox;

    private TestImages() {
    }

    /** A layer tar (uncompressed) and its diffId ({@code sha256:<hex>} of these bytes). */
    public record Layer(byte[] tar, String diffId) {
        /** A fresh stream over the uncompressed tar. */
        public InputStream open() {
            return new ByteArrayInputStream(tar);
        }

        /** The same layer gzip-compressed, as a registry would serve it (diffId unchanged). */
        public byte[] gzipped() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
                gz.write(tar);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return out.toByteArray();
        }

        /** The hex part of the diffId. */
        public String hex() {
            return diffId.substring("sha256:".length());
        }
    }

    /**
     * A busybox-static rootfs as one layer: bin/busybox, a symlink for every applet (to /bin/busybox, at the path
     * {@code busybox --list-full} gives), the usual top directories (dev, proc, sys, tmp with 1777, root 0700, etc,
     * var) and a minimal etc/passwd and etc/group (root, nobody). Built once per JVM.
     */
    public static Layer busybox() {
        Layer l = busybox;
        if (l == null) {
            synchronized (TestImages.class) {
                if (busybox == null) {
                    busybox = buildBusybox();
                }
                l = busybox;
            }
        }
        return l;
    }

    private static Layer buildBusybox() {
        if (!Files.isExecutable(BUSYBOX)) {
            throw new IllegalStateException(BUSYBOX + " is missing: apt-get install -y busybox-static");
        }
        List<String> applets = new ArrayList<>();
        try {
            Process p = new ProcessBuilder(BUSYBOX.toString(), "--list-full").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException("busybox --list-full failed: " + out);
            }
            for (String line : out.split("\n")) {
                if (!line.isBlank() && !line.equals("bin/busybox")) {
                    applets.add(line.trim());
                }
            }
            LayerBuilder b = layer()
                    .dir("bin", 0755).dir("sbin", 0755).dir("usr", 0755).dir("usr/bin", 0755).dir("usr/sbin", 0755)
                    .dir("dev", 0755).dir("proc", 0555).dir("sys", 0555).dir("tmp", 01777).dir("root", 0700)
                    .dir("etc", 0755).dir("var", 0755).dir("home", 0755)
                    .file("bin/busybox", Files.readAllBytes(BUSYBOX), 0755)
                    .file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n", 0644)
                    .file("etc/group", "root:x:0:\nnobody:x:65534:\n", 0644);
            for (String applet : new TreeSet<>(applets)) {
                b.symlink(applet, "/bin/busybox");
            }
            return b.build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A builder for a hand-made layer tar (PAX format, entries in the order added). */
    public static LayerBuilder layer() {
        return new LayerBuilder();
    }

    /** {@code sha256:<hex>} of the bytes. */
    public static String sha256(byte[] bytes) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Builds a layer tar entry by entry; owners default to 0:0 and mtimes to {@link #EPOCH_SECONDS}. */
    public static final class LayerBuilder {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes);

        private LayerBuilder() {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        }

        public LayerBuilder dir(String name, int mode) {
            return dir(name, mode, e -> { });
        }

        /** A directory; {@code custom} may change the entry (owner, mtime, PAX headers such as SCHILY.xattr.*). */
        public LayerBuilder dir(String name, int mode, Consumer<TarArchiveEntry> custom) {
            TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/", TarConstants.LF_DIR);
            e.setMode(mode);
            return add(e, null, custom);
        }

        public LayerBuilder file(String name, String content, int mode) {
            return file(name, content.getBytes(StandardCharsets.UTF_8), mode, e -> { });
        }

        public LayerBuilder file(String name, byte[] content, int mode) {
            return file(name, content, mode, e -> { });
        }

        public LayerBuilder file(String name, byte[] content, int mode, Consumer<TarArchiveEntry> custom) {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_NORMAL);
            e.setMode(mode);
            e.setSize(content.length);
            return add(e, content, custom);
        }

        public LayerBuilder symlink(String name, String target) {
            return symlink(name, target, e -> { });
        }

        public LayerBuilder symlink(String name, String target, Consumer<TarArchiveEntry> custom) {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
            e.setLinkName(target);
            e.setMode(0777);
            return add(e, null, custom);
        }

        /** A hard link {@code name} to the earlier entry {@code target} (a path in the same layer). */
        public LayerBuilder hardlink(String name, String target) {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK);
            e.setLinkName(target);
            e.setMode(0644);
            return add(e, null, x -> { });
        }

        public LayerBuilder charDevice(String name, int major, int minor, int mode) {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_CHR);
            e.setDevMajor(major);
            e.setDevMinor(minor);
            e.setMode(mode);
            return add(e, null, x -> { });
        }

        public LayerBuilder blockDevice(String name, int major, int minor, int mode) {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_BLK);
            e.setDevMajor(major);
            e.setDevMinor(minor);
            e.setMode(mode);
            return add(e, null, x -> { });
        }

        public LayerBuilder fifo(String name, int mode) {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_FIFO);
            e.setMode(mode);
            return add(e, null, x -> { });
        }

        /** An AUFS whiteout: deletes {@code name} of the lower layers (entry {@code dir/.wh.base}). */
        public LayerBuilder whiteout(String name) {
            int slash = name.lastIndexOf('/');
            String wh = slash < 0 ? ".wh." + name : name.substring(0, slash + 1) + ".wh." + name.substring(slash + 1);
            return file(wh, new byte[0], 0644);
        }

        /** Makes {@code dir} opaque: the lower layers' content of it is hidden (entry {@code dir/.wh..wh..opq}). */
        public LayerBuilder opaque(String dir) {
            return file(dir + "/.wh..wh..opq", new byte[0], 0644);
        }

        /** Adds any entry as given (content null for entries without data). */
        public LayerBuilder add(TarArchiveEntry e, byte[] content, Consumer<TarArchiveEntry> custom) {
            e.setUserId(0);
            e.setGroupId(0);
            e.setModTime(new Date(EPOCH_SECONDS * 1000));
            custom.accept(e);
            try {
                tar.putArchiveEntry(e);
                if (content != null) {
                    tar.write(content);
                }
                tar.closeArchiveEntry();
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
            return this;
        }

        /** Finishes the tar (end-of-archive blocks) and returns it with its diffId. */
        public Layer build() {
            try {
                tar.finish();
                tar.close();
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
            byte[] b = bytes.toByteArray();
            return new Layer(b, sha256(b));
        }
    }
}
