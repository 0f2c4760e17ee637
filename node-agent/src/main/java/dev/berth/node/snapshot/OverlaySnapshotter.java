package dev.berth.node.snapshot;

import dev.berth.node.nativeio.Errno;
import dev.berth.node.nativeio.Libc;
import dev.berth.node.nativeio.LinuxException;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * The overlayfs snapshotter, laid out like Docker's overlay2:
 * <pre>
 * &lt;root&gt;/layers/&lt;chain-hex&gt;/diff      the unpacked layer (one per layer chain)
 * &lt;root&gt;/layers/&lt;chain-hex&gt;/diff-id   the layer's own digest
 * &lt;root&gt;/layers/&lt;chain-hex&gt;/parent    the parent chain id (absent for a base layer)
 * &lt;root&gt;/layers/&lt;chain-hex&gt;/link      the short id of the layer
 * &lt;root&gt;/l/&lt;short-id&gt;                 symlink to ../layers/&lt;chain-hex&gt;/diff (keeps mount data short)
 * &lt;root&gt;/snapshots/&lt;container&gt;/upper, work
 * &lt;runRoot&gt;/containers/&lt;container&gt;/rootfs   the mount target
 * </pre>
 * The mount data of overlay must fit in one page (4096 bytes). When the absolute paths do not fit, the mount is made
 * from a dedicated thread that has its own working directory ({@code unshare(CLONE_FS)}, then {@code chdir(root)})
 * with relative {@code l/<short-id>} lower dirs, as Docker does from a re-executed child.
 *
 * <p>One agent owns a root: at construction, leftovers of interrupted unpacks ({@code layers/tmp-*}) and dangling
 * short links are removed.
 */
public final class OverlaySnapshotter implements Snapshotter, AutoCloseable {
    public static final Path DEFAULT_ROOT = Path.of("/var/lib/berth");
    public static final Path DEFAULT_RUN_ROOT = Path.of("/run/berth");

    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final Pattern CONTAINER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final String BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private static final int SHORT_ID_LENGTH = 12;
    /** One page minus the terminating NUL. */
    private static final int MOUNT_DATA_MAX = 4095;
    /**
     * index=off: no inode index, which would tie the upper dir to these exact lower dirs; redirect_dir=nofollow and
     * metacopy=off: the upper dir must hold the whole diff (renamed dirs copied up, not redirected; data copied with
     * metadata) so that exportDiff can read it as a plain tree.
     */
    private static final String HARDENING_OPTIONS = "index=off,redirect_dir=nofollow,metacopy=off,";
    private static final System.Logger LOG = System.getLogger(OverlaySnapshotter.class.getName());

    private final Path root;
    private final Path layers;
    private final Path links;
    private final Path snapshots;
    private final Path runContainers;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Object> chainLocks = new ConcurrentHashMap<>();
    /** Readers: unpack and prepare (which rely on chains staying); writer: removeChain. */
    private final ReentrantReadWriteLock storeLock = new ReentrantReadWriteLock();
    private volatile String mountOptions = HARDENING_OPTIONS;
    private volatile ExecutorService mountThread;
    private volatile LinuxException mountThreadError;

    /** A snapshotter with the default state directories {@code /var/lib/berth} and {@code /run/berth}. */
    public OverlaySnapshotter() throws IOException {
        this(DEFAULT_ROOT, DEFAULT_RUN_ROOT);
    }

    /**
     * @param root    persistent state (layers, container upper dirs)
     * @param runRoot runtime state (mount targets)
     */
    public OverlaySnapshotter(Path root, Path runRoot) throws IOException {
        this.root = Files.createDirectories(root).toRealPath();
        this.layers = Files.createDirectories(this.root.resolve("layers"));
        this.links = Files.createDirectories(this.root.resolve("l"));
        this.snapshots = Files.createDirectories(this.root.resolve("snapshots"));
        this.runContainers = Files.createDirectories(Files.createDirectories(runRoot).toRealPath().resolve("containers"));
        String jnu = System.getProperty("sun.jnu.encoding", "");
        if (!jnu.equalsIgnoreCase("UTF-8")) {
            // The JVM maps file names through this charset: non-ASCII names in layers would be mangled.
            LOG.log(System.Logger.Level.WARNING, "file names are encoded as {0}, not UTF-8: start the agent with a UTF-8"
                    + " locale (LANG=C.UTF-8) or layers with non-ASCII names will be unpacked wrongly", jnu);
        }
        sweep();
    }

    /** The OCI chain id: the diffId for a base layer, else sha256 of "parentChainId diffId". */
    public static String chainId(String parentChainId, String diffId) {
        if (parentChainId == null) {
            return diffId;
        }
        return "sha256:" + sha256Hex((parentChainId + " " + diffId).getBytes(StandardCharsets.UTF_8));
    }

    /** The chain id of a whole image: the chain of its diffIds, base first; null for an image without layers. */
    public static String chainId(List<String> diffIds) {
        String chain = null;
        for (String d : diffIds) {
            chain = chainId(chain, d);
        }
        return chain;
    }

    /** The directory holding the layer store (for diagnostics and tests). */
    public Path root() {
        return root;
    }

    @Override
    public String unpack(String parentChainId, String diffId, InputStream layer) throws IOException {
        if (diffId == null || !DIGEST.matcher(diffId).matches()) {
            throw new LayerException("invalid layer digest \"" + diffId + "\": expected sha256:<64 hex digits>");
        }
        if (parentChainId != null && !DIGEST.matcher(parentChainId).matches()) {
            throw new LayerException("layer " + diffId + ": invalid parent chain id \"" + parentChainId + "\"");
        }
        String chainId = chainId(parentChainId, diffId);
        storeLock.readLock().lock();
        Object lock = chainLocks.computeIfAbsent(chainId, k -> new Object());
        try {
            synchronized (lock) {
                if (parentChainId != null && !has(parentChainId)) {
                    throw new LayerException("layer " + diffId + ": parent layer chain " + parentChainId
                            + " is not unpacked on this node");
                }
                if (has(chainId)) {
                    return chainId;
                }
                unpackNew(parentChainId, diffId, chainId, layer);
                return chainId;
            }
        } finally {
            chainLocks.remove(chainId, lock);
            storeLock.readLock().unlock();
        }
    }

    private void unpackNew(String parentChainId, String diffId, String chainId, InputStream layer) throws IOException {
        Path tmp = Files.createTempDirectory(layers, "tmp-");
        Path link = null;
        try {
            Path diff = Files.createDirectory(tmp.resolve("diff"));
            Libc.chmod(diff.toString(), 0755);
            String got = extract(diff, diffId, layer);
            if (!got.equals(diffId)) {
                throw new LayerException("layer " + diffId + " digest mismatch: got " + got);
            }
            Files.writeString(tmp.resolve("diff-id"), diffId);
            if (parentChainId != null) {
                Files.writeString(tmp.resolve("parent"), parentChainId);
            }
            String shortId = newShortLink(hex(chainId));
            link = links.resolve(shortId);
            Files.writeString(tmp.resolve("link"), shortId);
            try {
                // rename(2) of a directory onto an existing non-empty one fails: exactly one concurrent unpack wins.
                Files.move(tmp, layers.resolve(hex(chainId)), StandardCopyOption.ATOMIC_MOVE);
            } catch (FileSystemException e) {
                if (has(chainId)) {
                    Files.deleteIfExists(link);
                    return;
                }
                throw e;
            }
            link = null;
        } catch (LayerException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new LayerException("layer " + diffId + ": " + e.getMessage(), e);
        } finally {
            if (link != null) {
                Files.deleteIfExists(link);
            }
            if (Files.exists(tmp, LinkOption.NOFOLLOW_LINKS)) {
                FileTrees.deleteRecursively(tmp);
            }
        }
    }

    /** Unpacks the (possibly gzip-compressed) tar into {@code diff}; returns the digest of the uncompressed stream. */
    private String extract(Path diff, String diffId, InputStream layer) throws IOException {
        BufferedInputStream in = new BufferedInputStream(new FilterInputStream(layer) {
            @Override
            public void close() {
                // not ours to close
            }
        }, 64 * 1024);
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        InputStream plain = in;
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            try {
                plain = new GZIPInputStream(in, 64 * 1024);
            } catch (ZipException e) {
                throw new LayerException("layer " + diffId + ": invalid gzip stream: " + e.getMessage(), e);
            }
        } else if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
                && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
            throw new LayerException("layer " + diffId + ": zstd-compressed layers are not supported");
        }
        MessageDigest sha = sha256();
        // Closing the digesting stream ends the gzip inflater; the caller's stream is the caller's to close.
        try (DigestInputStream digesting = new DigestInputStream(plain, sha)) {
            new LayerUnpacker(diff, diffId).apply(new TarReader(digesting));
            // The digest covers the whole stream, including the padding after the end-of-archive blocks.
            digesting.transferTo(OutputStream.nullOutputStream());
        } catch (LayerException e) {
            throw e;
        } catch (ZipException e) {
            throw new LayerException("layer " + diffId + ": invalid gzip stream: " + e.getMessage(), e);
        } catch (TarReader.TarFormatException | java.io.EOFException e) {
            throw new LayerException("layer " + diffId + ": invalid tar: " + e.getMessage(), e);
        }
        return "sha256:" + HexFormat.of().formatHex(sha.digest());
    }

    /** Creates a fresh {@code l/<short-id>} symlink to the (future) diff of the chain and returns the short id. */
    private String newShortLink(String chainHex) throws IOException {
        for (int attempt = 0; ; attempt++) {
            StringBuilder id = new StringBuilder();
            for (int i = 0; i < SHORT_ID_LENGTH; i++) {
                id.append(BASE32.charAt(random.nextInt(32)));
            }
            try {
                Files.createSymbolicLink(links.resolve(id.toString()), Path.of("..", "layers", chainHex, "diff"));
                return id.toString();
            } catch (FileAlreadyExistsException e) {
                if (attempt > 8) {
                    throw e;
                }
            }
        }
    }

    @Override
    public boolean has(String chainId) {
        return chainId != null && DIGEST.matcher(chainId).matches()
                && Files.isDirectory(layers.resolve(hex(chainId)).resolve("diff"), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * The lower directories of a chain, topmost first: one {@code <root>/l/<short-id>} symlink per layer, each
     * resolving to that layer's diff. A missing short link is made again.
     */
    List<Path> lowerDirs(String chainId) throws IOException {
        List<Path> lowers = new ArrayList<>();
        String chain = chainId;
        while (chain != null) {
            if (!has(chain)) {
                throw new LayerException(chain.equals(chainId) ? "layer chain " + chainId + " is not unpacked on this node"
                        : "layer chain " + chain + " (an ancestor of " + chainId + ") is not unpacked on this node");
            }
            Path dir = layers.resolve(hex(chain));
            String shortId = Files.readString(dir.resolve("link")).trim();
            Path link = links.resolve(shortId);
            if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(link, Path.of("..", "layers", hex(chain), "diff"));
            }
            lowers.add(link);
            Path parent = dir.resolve("parent");
            chain = Files.exists(parent) ? Files.readString(parent).trim() : null;
            if (lowers.size() > 500) {
                throw new LayerException("layer chain " + chainId + " is deeper than overlayfs allows (500 layers)");
            }
        }
        return lowers;
    }

    @Override
    public RootfsMount prepare(String containerId, String chainId) throws IOException {
        checkContainerId(containerId);
        storeLock.readLock().lock();
        try {
            return prepareLocked(containerId, chainId);
        } finally {
            storeLock.readLock().unlock();
        }
    }

    private RootfsMount prepareLocked(String containerId, String chainId) throws IOException {
        List<Path> lowers = chainId == null ? List.of() : lowerDirs(chainId);
        Path snapshot = snapshots.resolve(containerId);
        Path containerRun = runContainers.resolve(containerId);
        boolean newSnapshot = !Files.exists(snapshot, LinkOption.NOFOLLOW_LINKS);
        boolean newRun = !Files.exists(containerRun, LinkOption.NOFOLLOW_LINKS);
        Path chainFile = snapshot.resolve("chain");
        if (Files.isRegularFile(chainFile)) {
            String existing = Files.readString(chainFile).trim();
            if (!existing.equals(chainId == null ? "" : chainId)) {
                throw new LayerException("container " + containerId + " already has a snapshot on "
                        + (existing.isEmpty() ? "an empty rootfs" : "layer chain " + existing));
            }
        }
        try {
            Path upper = mkdir(snapshot.resolve("upper"), 0755);
            Path work = mkdir(snapshot.resolve("work"), 0700);
            // Which chain the snapshot stands on, so that the chain is not removed under it.
            Files.writeString(snapshot.resolve("chain"), chainId == null ? "" : chainId);
            Path target = mkdir(containerRun.resolve("rootfs"), 0755);
            return new RootfsMount(containerId, List.copyOf(lowers), upper, work, target);
        } catch (IOException | RuntimeException e) {
            if (newSnapshot) {
                FileTrees.deleteRecursively(snapshot);
            }
            if (newRun) {
                FileTrees.deleteRecursively(containerRun);
            }
            throw e;
        }
    }

    private static Path mkdir(Path dir, int mode) throws IOException {
        Files.createDirectories(dir.getParent());
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            Files.createDirectory(dir);
            Libc.chmod(dir.toString(), mode);
        }
        return dir;
    }

    @Override
    public void mount(RootfsMount m) throws IOException {
        Path target = m.target().toRealPath();
        if (FileTrees.isMountPoint(target)) {
            return;
        }
        if (m.lowerDirs().isEmpty()) {
            // An image without layers (FROM scratch): the upper dir is the whole rootfs.
            Libc.mount(m.upperDir().toString(), target.toString(), "none", Libc.MS_BIND, null);
            return;
        }
        String absolute = overlayData(m.lowerDirs(), m.upperDir(), m.workDir(), null);
        if (absolute.length() + mountOptions.length() <= MOUNT_DATA_MAX) {
            mountOverlay(target, m, null);
        } else {
            String relative = overlayData(m.lowerDirs(), m.upperDir(), m.workDir(), root);
            if (relative.length() + mountOptions.length() > MOUNT_DATA_MAX) {
                throw new LayerException("container " + m.containerId() + ": " + m.lowerDirs().size()
                        + " layers do not fit in the overlay mount data even with short links");
            }
            onMountThread(() -> {
                Libc.chdir(root.toString());
                try {
                    mountOverlay(target, m, root);
                } finally {
                    Libc.chdir("/");
                }
                return null;
            });
        }
    }

    /** mount(2) of the overlay; paths relative to {@code base} when it is given (the caller's cwd is base). */
    private void mountOverlay(Path target, RootfsMount m, Path base) throws LinuxException {
        String data = overlayData(m.lowerDirs(), m.upperDir(), m.workDir(), base);
        String options = mountOptions;
        try {
            Libc.mount("overlay", target.toString(), "overlay", 0, options + data);
        } catch (LinuxException e) {
            if (e.errno() != Errno.EINVAL || options.isEmpty()) {
                throw e;
            }
            // An older kernel without one of the hardening options: fall back to overlay's defaults.
            Libc.mount("overlay", target.toString(), "overlay", 0, data);
            LOG.log(System.Logger.Level.WARNING, "overlay refuses \"{0}\" ({1}); mounting without these options",
                    options, e.getMessage());
            mountOptions = "";
        }
    }

    private static String overlayData(List<Path> lowers, Path upper, Path work, Path base) {
        StringBuilder b = new StringBuilder("lowerdir=");
        for (int i = 0; i < lowers.size(); i++) {
            if (i > 0) {
                b.append(':');
            }
            b.append(rel(lowers.get(i), base));
        }
        return b.append(",upperdir=").append(rel(upper, base)).append(",workdir=").append(rel(work, base)).toString();
    }

    private static String rel(Path p, Path base) {
        return base != null && p.startsWith(base) ? base.relativize(p).toString() : p.toString();
    }

    private interface MountTask {
        Void run() throws IOException;
    }

    private void onMountThread(MountTask task) throws IOException {
        ExecutorService ex = mountThread;
        if (ex == null) {
            synchronized (this) {
                if (mountThread == null) {
                    mountThread = Executors.newSingleThreadExecutor(r -> {
                        Thread t = new Thread(() -> {
                            // Only this thread's working directory changes from now on.
                            try {
                                Libc.unshare(Libc.CLONE_FS);
                            } catch (LinuxException e) {
                                mountThreadError = e;
                            }
                            r.run();
                        }, "berth-overlay-mount");
                        t.setDaemon(true);
                        return t;
                    });
                }
                ex = mountThread;
            }
        }
        Future<Void> f = ex.submit(() -> {
            if (mountThreadError != null) {
                throw mountThreadError;
            }
            return task.run();
        });
        try {
            f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while mounting", e);
        }
    }

    @Override
    public void remove(String containerId) throws IOException {
        checkContainerId(containerId);
        Path containerRun = runContainers.resolve(containerId);
        Path target = containerRun.resolve("rootfs");
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            unmountAll(target);
            FileTrees.deleteRecursively(target);
        }
        // The runtime may keep its own files next to the rootfs: the directory goes only when empty.
        try {
            Files.deleteIfExists(containerRun);
        } catch (java.nio.file.DirectoryNotEmptyException e) {
            // kept for its other owner
        }
        FileTrees.deleteRecursively(snapshots.resolve(containerId));
    }

    private static void unmountAll(Path target) throws IOException {
        String t = target.toString();
        for (int i = 0; FileTrees.isMountPoint(target); i++) {
            if (i >= 32) {
                throw new IOException("umount2 `" + t + "`: still mounted after " + i + " attempts");
            }
            try {
                Libc.umount2(t, 0);
            } catch (LinuxException e) {
                if (e.errno() == Errno.EBUSY) {
                    // A process still has its cwd or a file in it: detach now, the kernel frees it when unused.
                    Libc.umount2(t, Libc.MNT_DETACH);
                } else if (e.errno() != Errno.EINVAL) {
                    throw e;
                }
            }
        }
    }

    @Override
    public void exportDiff(String containerId, OutputStream out) throws IOException {
        Path upper = upperOf(containerId);
        Set<String> artifacts;
        storeLock.readLock().lock();
        try {
            artifacts = UpperDir.runtimeArtifacts(upper, imageOf(containerId));
        } finally {
            storeLock.readLock().unlock();
        }
        // not under the lock: the walk reads only the upper dir, and a slow reader must not hold up removeChain
        new DiffExporter(upper, artifacts).export(out);
    }

    @Override
    public List<Change> changes(String containerId) throws IOException {
        Path upper = upperOf(containerId);
        // the read lock keeps removeChain from deleting a layer while it is being compared
        storeLock.readLock().lock();
        try {
            return new ChangeLister(upper, imageOf(containerId)).list();
        } finally {
            storeLock.readLock().unlock();
        }
    }

    private Path upperOf(String containerId) throws IOException {
        checkContainerId(containerId);
        Path upper = snapshots.resolve(containerId).resolve("upper");
        if (!Files.isDirectory(upper, LinkOption.NOFOLLOW_LINKS)) {
            throw new java.nio.file.NoSuchFileException(upper.toString(), null, "container " + containerId + " has no snapshot");
        }
        return upper;
    }

    /** The image a container's snapshot stands on; call with the store's read lock held. */
    private ImageView imageOf(String containerId) throws IOException {
        String chain = Files.readString(snapshots.resolve(containerId).resolve("chain")).trim();
        return new ImageView(chain.isEmpty() ? List.of() : lowerDirs(chain));
    }

    @Override
    public void removeChain(String chainId) throws IOException {
        if (chainId == null || !DIGEST.matcher(chainId).matches()) {
            throw new LayerException("invalid layer chain id \"" + chainId + "\"");
        }
        storeLock.writeLock().lock();
        try {
            Path dir = layers.resolve(hex(chainId));
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            List<String> users = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(layers)) {
                for (Path p : ds) {
                    Path parent = p.resolve("parent");
                    if (!p.getFileName().toString().startsWith("tmp-") && Files.isRegularFile(parent)
                            && Files.readString(parent).trim().equals(chainId)) {
                        users.add("layer chain sha256:" + p.getFileName());
                    }
                }
            }
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(snapshots)) {
                for (Path p : ds) {
                    Path chain = p.resolve("chain");
                    if (Files.isRegularFile(chain) && Files.readString(chain).trim().equals(chainId)) {
                        users.add("container " + p.getFileName());
                    }
                }
            }
            if (!users.isEmpty()) {
                throw new LayerException("layer chain " + chainId + " is in use by " + String.join(", ", users));
            }
            // Renamed away first, so that a crash half-way leaves a tmp-* directory the next start sweeps,
            // never a half-deleted layer that has() would report as present.
            Path doomed = layers.resolve("tmp-rm-" + hex(chainId));
            Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
            Path link = doomed.resolve("link");
            if (Files.isRegularFile(link)) {
                Files.deleteIfExists(links.resolve(Files.readString(link).trim()));
            }
            FileTrees.deleteRecursively(doomed);
        } finally {
            storeLock.writeLock().unlock();
        }
    }

    /** Removes the leftovers of interrupted unpacks and short links whose layer is gone. */
    private void sweep() throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layers, "tmp-*")) {
            for (Path p : ds) {
                FileTrees.deleteRecursively(p);
            }
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(links)) {
            for (Path p : ds) {
                if (Files.isSymbolicLink(p) && !Files.exists(p)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Override
    public void close() {
        ExecutorService ex = mountThread;
        if (ex != null) {
            ex.shutdownNow();
        }
    }

    private static void checkContainerId(String id) throws IOException {
        if (id == null || !CONTAINER_ID.matcher(id).matches()) {
            throw new IllegalArgumentException("invalid container id \"" + id + "\"");
        }
    }

    private static String hex(String digest) {
        return digest.substring("sha256:".length());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String sha256Hex(byte[] b) {
        return HexFormat.of().formatHex(sha256().digest(b));
    }
}
