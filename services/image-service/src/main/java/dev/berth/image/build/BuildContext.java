package dev.berth.image.build;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.CompressorStreamFactory;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The build context: the request's tar (plain or compressed) unpacked into a private directory, with the paths
 * {@code .dockerignore} names left out (the Dockerfile and {@code .dockerignore} are always readable). Closing it
 * removes the directory.
 */
public final class BuildContext implements AutoCloseable {

    private final Path root;
    private final Path meta;

    private BuildContext(Path root, Path meta) {
        this.root = root;
        this.meta = meta;
    }

    /**
     * Unpacks a context.
     *
     * @param dockerfile the Dockerfile's path in the context (kept even when ignored)
     * @throws BuildException 400 when the body is not a (compressed) tar
     */
    public static BuildContext unpack(InputStream body, Path workDir, String dockerfile) {
        Path dir;
        try {
            Files.createDirectories(workDir);
            dir = Files.createTempDirectory(workDir, "build-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a build directory in " + workDir, e);
        }
        Path root = dir.resolve("context");
        Path meta = dir.resolve("meta");
        BuildContext context = new BuildContext(root, meta);
        try {
            Files.createDirectories(root);
            Files.createDirectories(meta);
            extract(decompress(body), root);
            Path ignoreFile = root.resolve(".dockerignore");
            copyIfFile(ignoreFile, meta.resolve("dockerignore"));
            String dockerfilePath = DockerIgnore.clean(dockerfile);
            copyIfFile(root.resolve(dockerfilePath), meta.resolve("Dockerfile"));
            if (Files.isRegularFile(ignoreFile)) {
                DockerIgnore ignore = DockerIgnore.parse(Files.readString(ignoreFile, StandardCharsets.UTF_8));
                context.prune(ignore);
            }
            return context;
        } catch (IOException e) {
            context.close();
            throw new BuildException("failed to read the build context: " + e.getMessage());
        } catch (RuntimeException e) {
            context.close();
            throw e;
        }
    }

    /** The unpacked context, after {@code .dockerignore}. */
    public Path root() {
        return root;
    }

    /**
     * The Dockerfile's text.
     *
     * @throws BuildException 400 {@code Cannot locate specified Dockerfile: <name>} when the context lacks it
     */
    public String dockerfile(String name) {
        Path file = meta.resolve("Dockerfile");
        if (!Files.isRegularFile(file)) {
            throw new BuildException("Cannot locate specified Dockerfile: " + name);
        }
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BuildException("Cannot read the Dockerfile " + name + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        deleteTree(root.getParent());
    }

    private void prune(DockerIgnore ignore) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                if (p.equals(root)) {
                    continue;
                }
                String rel = root.relativize(p).toString();
                if (ignore.ignored(rel)) {
                    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        try (Stream<Path> left = Files.list(p)) {
                            if (left.findAny().isPresent()) {
                                continue; // an exception re-included something below it
                            }
                        }
                    }
                    Files.delete(p);
                }
            }
        }
    }

    private static InputStream decompress(InputStream body) throws IOException {
        BufferedInputStream in = new BufferedInputStream(body, 65536);
        in.mark(16);
        byte[] head = in.readNBytes(6);
        in.reset();
        if (head.length == 0) {
            throw new BuildException("the build context is empty: send a tar archive");
        }
        boolean gzip = head.length >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b;
        boolean bzip2 = head.length >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h';
        boolean xz = head.length >= 6 && (head[0] & 0xff) == 0xfd && head[1] == '7' && head[2] == 'z';
        if (gzip || bzip2 || xz) {
            try {
                return new BufferedInputStream(new CompressorStreamFactory().createCompressorInputStream(in));
            } catch (Exception e) {
                throw new BuildException("failed to read the build context: " + e.getMessage());
            }
        }
        return in;
    }

    /** Unpacks a tar below {@code target}; entries that would land outside it are skipped. */
    static void extract(InputStream in, Path target) throws IOException {
        TarArchiveInputStream tar = new TarArchiveInputStream(in);
        TarArchiveEntry e;
        boolean any = false;
        while ((e = tar.getNextEntry()) != null) {
            any = true;
            String rel = DockerIgnore.clean(e.getName());
            if (rel.equals(".") || rel.startsWith("../") || rel.equals("..")) {
                continue;
            }
            Path p = target.resolve(rel).normalize();
            if (!p.startsWith(target)) {
                continue;
            }
            Files.createDirectories(p.getParent());
            if (!inside(p.getParent(), target)) {
                // a symbolic link in the archive must not carry later entries out of the context directory
                continue;
            }
            if (e.isDirectory()) {
                Files.createDirectories(p);
            } else if (e.isSymbolicLink()) {
                Files.deleteIfExists(p);
                Files.createSymbolicLink(p, Path.of(e.getLinkName()));
                continue;
            } else if (e.isLink()) {
                Path source = target.resolve(DockerIgnore.clean(e.getLinkName())).normalize();
                if (source.startsWith(target) && Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)
                        && inside(source.getParent(), target)) {
                    Files.deleteIfExists(p);
                    Files.copy(source, p);
                }
                continue;
            } else if (e.isFile()) {
                Files.deleteIfExists(p);
                Files.copy(tar, p);
            } else {
                continue; // devices and fifos have no place in a build context
            }
            Files.setPosixFilePermissions(p, permissions(e.getMode()));
            Files.setLastModifiedTime(p, FileTime.fromMillis(e.getModTime().getTime()));
        }
        if (!any) {
            throw new BuildException("the build context is empty or not a tar archive");
        }
    }

    /** Whether a directory, its symbolic links followed, is {@code root} or below it. */
    static boolean inside(Path dir, Path root) throws IOException {
        return dir.toRealPath().startsWith(root.toRealPath());
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
                PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
                PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) {
            if ((mode & (1 << i)) != 0) {
                out.add(order[i]);
            }
        }
        return out;
    }

    private static void copyIfFile(Path source, Path target) throws IOException {
        if (Files.isRegularFile(source)) {
            Files.copy(source, target);
        }
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException ignored) {
            // a leftover under tmp is never served and is removed with the next cleanup of the directory
        }
    }
}
