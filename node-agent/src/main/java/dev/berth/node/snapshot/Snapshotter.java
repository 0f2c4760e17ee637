package dev.berth.node.snapshot;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * The node's layer store and container root filesystems (the containerd snapshotter's role).
 *
 * <p>Layers are unpacked once per layer chain (chain id as in the OCI image spec), exactly: numeric owners, modes
 * incl. setuid/sticky, symlinks, hardlinks, device nodes, fifos, xattrs, mtimes; AUFS whiteouts become overlay
 * whiteouts (0/0 char devices) and opaque directories ({@code trusted.overlay.opaque=y}).
 *
 * <p>Failure modes: {@link LayerException} for a corrupt tar, a digest mismatch or a missing parent; nothing of a
 * failed unpack stays on disk.
 */
public interface Snapshotter {

    /**
     * Unpacks a layer (gzip or plain tar) on top of the chain {@code parentChainId} (null for a base layer), verifying
     * that the uncompressed content has digest {@code diffId} ("sha256:..."). Idempotent: a chain already present is
     * not unpacked again. Returns the chain id of the result.
     */
    String unpack(String parentChainId, String diffId, InputStream layer) throws IOException;

    /** Whether the chain is unpacked on this node. */
    boolean has(String chainId);

    /**
     * Prepares the writable snapshot of a container on top of {@code chainId} (null: an empty rootfs) and returns the
     * mount that makes its rootfs, as data; {@link #mount} performs it. Many layers must work (mount data limit).
     * Calling it again for the same container and chain returns the same snapshot (its upper dir kept).
     *
     * <p>Failure modes: {@link LayerException} if the chain (or one of its ancestors) is not unpacked, or if the
     * container already has a snapshot on another chain; {@link IllegalArgumentException} for a container id that is
     * not a plain name ({@code [A-Za-z0-9][A-Za-z0-9_.-]*}). Nothing is left behind on failure.
     */
    RootfsMount prepare(String containerId, String chainId) throws IOException;

    /**
     * Mounts the prepared rootfs at {@link RootfsMount#target()}; idempotent (an existing mount there is kept).
     * Fails with a {@code LinuxException} naming the mount call, its target and options.
     */
    void mount(RootfsMount mount) throws IOException;

    /**
     * Unmounts (lazily, if a process still uses it) and deletes the container's snapshot: rootfs target, upper and
     * work dirs; no error if it is already gone. Fails if the target cannot be unmounted; never deletes across a mount.
     */
    void remove(String containerId) throws IOException;

    /**
     * The diff of a container's writable layer as an uncompressed tar stream in Docker's layer format (whiteouts as
     * {@code .wh.} entries, opaque directories as {@code .wh..wh..opq}), for commit/build and archive. Deterministic:
     * the same changes give the same bytes (entries in byte order of their names, mtimes in whole seconds, whiteouts
     * at time 0). The runtime's own mount points (/etc/hosts, /etc/hostname, /etc/resolv.conf, /proc, /sys, /dev)
     * are not part of it. The container should be paused or stopped: a file truncated meanwhile makes it fail, one
     * still being written is captured as far as it was. {@link java.nio.file.NoSuchFileException} if the container
     * has no snapshot, before anything is written.
     */
    void exportDiff(String containerId, java.io.OutputStream out) throws IOException;

    /**
     * What {@code docker diff} shows for a container: the paths its writable layer added, modified or deleted
     * relative to its image, from the same walk as {@link #exportDiff} (a directory before its contents, names in
     * byte order). Same consistency caveat as {@link #exportDiff} for a running container.
     * {@link java.nio.file.NoSuchFileException} if the container has no snapshot; {@link LayerException} if a layer
     * of its image has gone missing.
     */
    List<Change> changes(String containerId) throws IOException;

    /**
     * Deletes the unpacked layer of one chain (when its image is removed from the node). Refused with a
     * {@link LayerException} while another chain is built on it or a container's snapshot uses it (the message names
     * them); no error if the chain is not present. Ancestors stay: remove them one by one, topmost first.
     */
    void removeChain(String chainId) throws IOException;

    /**
     * An overlay mount as data: lower directories (topmost first), upper and work directory, and where it goes.
     * With no lower layers the mount is a plain bind of the upper directory.
     */
    record RootfsMount(String containerId, List<Path> lowerDirs, Path upperDir, Path workDir, Path target) {
    }

    /** One line of {@code docker diff}: an absolute path in the container and what happened to it. */
    record Change(String path, ChangeKind kind) {
    }

    /** The Engine API's change kinds; {@link #code()} is the number the API uses. */
    enum ChangeKind {
        MODIFY, ADD, DELETE;

        /** 0 modify, 1 add, 2 delete (moby's {@code archive.ChangeType}). */
        public int code() {
            return ordinal();
        }
    }

    /** A layer could not be unpacked or found; the message names the layer and the cause. */
    class LayerException extends IOException {
        public LayerException(String message) {
            super(message);
        }

        public LayerException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
