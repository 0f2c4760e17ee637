package dev.berth.node.api;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Paths of a container resolve like a chroot: nothing an archive reads or writes is outside the root. */
class ContainerFilesTest {
    @TempDir
    Path dir;

    @Test
    void symlinksAndDotDotStayInsideTheRoot() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Files.createDirectories(root.resolve("data"));
        // an absolute link means the container's path, never the host's
        Files.createSymbolicLink(root.resolve("etc"), Path.of("/usr/etc"));
        Files.createSymbolicLink(root.resolve("data/up"), Path.of("../../../.."));
        assertThat(ContainerFiles.resolve(root, "/etc/passwd", true)).isEqualTo(root.resolve("usr/etc/passwd"));
        assertThat(ContainerFiles.resolve(root, "/../../etc/hostname", true)).isEqualTo(root.resolve("usr/etc/hostname"));
        assertThat(ContainerFiles.resolve(root, "/data/up/etc", false)).isEqualTo(root.resolve("etc"));
        assertThat(ContainerFiles.resolve(root, "/etc", false)).isEqualTo(root.resolve("etc"));
        Files.createSymbolicLink(root.resolve("loop"), Path.of("/loop"));
        assertThatThrownBy(() -> ContainerFiles.resolve(root, "/loop/x", true)).hasMessageContaining("symbolic links");
    }

    @Test
    void aTarCannotWriteThroughASymlinkOrDotDot() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.createDirectories(root.resolve("tmp"));
        Files.createSymbolicLink(root.resolve("tmp/out"), outside);
        ByteArrayOutputStream tar = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(tar)) {
            byte[] b = "x".getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry e = new TarArchiveEntry("out/file");
            e.setSize(b.length);
            t.putArchiveEntry(e);
            t.write(b);
            t.closeArchiveEntry();
        }
        ContainerFiles.untar(root, "c", "/tmp", new ByteArrayInputStream(tar.toByteArray()), true, false);
        // "out" is an absolute link to a host path: inside the container it means <root><outside>
        assertThat(outside.resolve("file")).doesNotExist();
        assertThat(root.resolve(outside.toString().substring(1)).resolve("file")).hasContent("x");

        ByteArrayOutputStream evil = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(evil)) {
            TarArchiveEntry e = new TarArchiveEntry("../../escape");
            e.setSize(0);
            t.putArchiveEntry(e);
            t.closeArchiveEntry();
        }
        assertThatThrownBy(() -> ContainerFiles.untar(root, "c", "/tmp", new ByteArrayInputStream(evil.toByteArray()),
                true, false)).hasMessageContaining("leaves the target");
        assertThat(dir.resolve("escape")).doesNotExist();
    }
}
