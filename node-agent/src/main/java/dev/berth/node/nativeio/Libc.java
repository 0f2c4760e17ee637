package dev.berth.node.nativeio;

import com.sun.jna.LastErrorException;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The one facade over libc for the node agent. Every method either succeeds or throws {@link LinuxException}
 * naming the call, its arguments and errno. Calls glibc does not wrap go through {@code syscall()} with the
 * number from {@link Syscalls}.
 *
 * <p>Helpers add the calls they need here (typed, documented); nothing outside this package calls JNA.
 */
public final class Libc {
    // mount(2) flags
    public static final long MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_NOEXEC = 8, MS_REMOUNT = 32,
            MS_BIND = 4096, MS_MOVE = 8192, MS_REC = 16384, MS_PRIVATE = 1 << 18, MS_SLAVE = 1 << 19,
            MS_SHARED = 1 << 20, MS_STRICTATIME = 1 << 24;
    // umount2(2) flags
    public static final int MNT_FORCE = 1, MNT_DETACH = 2;
    // clone/unshare/setns namespace flags
    public static final int CLONE_NEWNS = 0x00020000, CLONE_NEWCGROUP = 0x02000000, CLONE_NEWUTS = 0x04000000,
            CLONE_NEWIPC = 0x08000000, CLONE_NEWUSER = 0x10000000, CLONE_NEWPID = 0x20000000, CLONE_NEWNET = 0x40000000;
    // unshare(2): the calling thread gets its own working directory, root and umask
    public static final int CLONE_FS = 0x00000200;
    // open(2)
    public static final int O_RDONLY = 0, O_CLOEXEC = 0x80000;
    // mknod modes
    public static final int S_IFIFO = 0010000, S_IFCHR = 0020000, S_IFBLK = 0060000;
    // utimensat
    public static final int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;

    private Libc() {
    }

    public static void mount(String source, String target, String fstype, long flags, String data) throws LinuxException {
        try {
            LibcNative.mount(source, target, fstype, new NativeLong(flags), data);
        } catch (LastErrorException e) {
            throw new LinuxException("mount(\"" + source + "\", \"" + target + "\", \"" + fstype + "\", 0x"
                    + Long.toHexString(flags) + ", " + (data == null ? "NULL" : "\"" + data + "\"") + ")", e.getErrorCode());
        }
    }

    public static void umount2(String target, int flags) throws LinuxException {
        try {
            LibcNative.umount2(target, flags);
        } catch (LastErrorException e) {
            throw new LinuxException("umount2(\"" + target + "\", " + flags + ")", e.getErrorCode());
        }
    }

    /** mknod(2); {@code dev} as made by {@link #makedev(int, int)}. */
    public static void mknod(String path, int mode, long dev) throws LinuxException {
        try {
            LibcNative.mknod(path, mode, dev);
        } catch (LastErrorException e) {
            throw new LinuxException("mknod(\"" + path + "\", 0" + Integer.toOctalString(mode) + ", " + dev + ")", e.getErrorCode());
        }
    }

    public static void mkfifo(String path, int mode) throws LinuxException {
        try {
            LibcNative.mkfifo(path, mode);
        } catch (LastErrorException e) {
            throw new LinuxException("mkfifo(\"" + path + "\", 0" + Integer.toOctalString(mode) + ")", e.getErrorCode());
        }
    }

    public static long makedev(int major, int minor) {
        return ((long) (major & 0xfffff000) << 32) | ((long) (major & 0xfff) << 8)
                | ((long) (minor & 0xffffff00) << 12) | (minor & 0xff);
    }

    public static void lchown(String path, int uid, int gid) throws LinuxException {
        try {
            LibcNative.lchown(path, uid, gid);
        } catch (LastErrorException e) {
            throw new LinuxException("lchown(\"" + path + "\", " + uid + ", " + gid + ")", e.getErrorCode());
        }
    }

    public static void chmod(String path, int mode) throws LinuxException {
        try {
            LibcNative.chmod(path, mode);
        } catch (LastErrorException e) {
            throw new LinuxException("chmod(\"" + path + "\", 0" + Integer.toOctalString(mode) + ")", e.getErrorCode());
        }
    }

    public static void lsetxattr(String path, String name, byte[] value) throws LinuxException {
        try {
            LibcNative.lsetxattr(path, name, value, new NativeLong(value.length), 0);
        } catch (LastErrorException e) {
            throw new LinuxException("lsetxattr(\"" + path + "\", \"" + name + "\", \""
                    + new String(value, StandardCharsets.ISO_8859_1) + "\")", e.getErrorCode());
        }
    }

    /** The attribute's value, or null when the file has no such attribute. */
    public static byte[] lgetxattr(String path, String name) throws LinuxException {
        byte[] buf = new byte[4096];
        try {
            long n = LibcNative.lgetxattr(path, name, buf, new NativeLong(buf.length)).longValue();
            return Arrays.copyOf(buf, (int) n);
        } catch (LastErrorException e) {
            if (e.getErrorCode() == Errno.ENODATA) {
                return null;
            }
            throw new LinuxException("lgetxattr(\"" + path + "\", \"" + name + "\")", e.getErrorCode());
        }
    }

    /** The names of the file's extended attributes (llistxattr(2)); never follows a symlink. */
    public static java.util.List<String> llistxattr(String path) throws LinuxException {
        for (int size = 4096; ; size *= 4) {
            byte[] buf = new byte[size];
            try {
                int n = (int) LibcNative.llistxattr(path, buf, new NativeLong(buf.length)).longValue();
                java.util.List<String> names = new java.util.ArrayList<>();
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buf[i] == 0) {
                        names.add(new String(buf, start, i - start, StandardCharsets.UTF_8));
                        start = i + 1;
                    }
                }
                return names;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.ERANGE || size > (1 << 20)) {
                    throw new LinuxException("llistxattr(\"" + path + "\")", e.getErrorCode());
                }
            }
        }
    }

    /** symlink(2): creates {@code linkpath} pointing at {@code target} (not resolved). */
    public static void symlink(String target, String linkpath) throws LinuxException {
        try {
            LibcNative.symlink(target, linkpath);
        } catch (LastErrorException e) {
            throw new LinuxException("symlink(\"" + target + "\", \"" + linkpath + "\")", e.getErrorCode());
        }
    }

    /** link(2): a hard link; on Linux a symlink {@code oldpath} is linked itself, not followed. */
    public static void link(String oldpath, String newpath) throws LinuxException {
        try {
            LibcNative.link(oldpath, newpath);
        } catch (LastErrorException e) {
            throw new LinuxException("link(\"" + oldpath + "\", \"" + newpath + "\")", e.getErrorCode());
        }
    }

    /**
     * chdir(2). The working directory is shared by all threads of the process unless the calling thread did
     * {@code unshare(CLONE_FS)} first: only call it on such a dedicated thread.
     */
    public static void chdir(String path) throws LinuxException {
        try {
            LibcNative.chdir(path);
        } catch (LastErrorException e) {
            throw new LinuxException("chdir(\"" + path + "\")", e.getErrorCode());
        }
    }

    /** setns(2). Only on a dedicated platform thread for the network namespace. */
    public static void setns(int fd, int nstype) throws LinuxException {
        try {
            LibcNative.setns(fd, nstype);
        } catch (LastErrorException e) {
            throw new LinuxException("setns(" + fd + ", 0x" + Integer.toHexString(nstype) + ")", e.getErrorCode());
        }
    }

    /** unshare(2). Only on a dedicated platform thread, and never CLONE_NEWUSER (the JVM is multithreaded). */
    public static void unshare(int flags) throws LinuxException {
        try {
            LibcNative.unshare(flags);
        } catch (LastErrorException e) {
            throw new LinuxException("unshare(0x" + Integer.toHexString(flags) + ")", e.getErrorCode());
        }
    }

    public static void kill(int pid, int sig) throws LinuxException {
        try {
            LibcNative.kill(pid, sig);
        } catch (LastErrorException e) {
            throw new LinuxException("kill(" + pid + ", " + sig + ")", e.getErrorCode());
        }
    }

    /** open(2) flag for writing only (cgroup control files). */
    public static final int O_WRONLY = 1;

    /**
     * write(2) of the whole buffer in one call, as cgroup and proc control files require (a partial write would be
     * a different value); a short write is reported as EIO.
     */
    public static void write(int fd, byte[] data, String what) throws LinuxException {
        long n;
        try {
            n = LibcNative.write(fd, data, new NativeLong(data.length)).longValue();
        } catch (LastErrorException e) {
            throw new LinuxException("write(" + what + ", \"" + new String(data, StandardCharsets.UTF_8).strip() + "\")",
                    e.getErrorCode());
        }
        if (n != data.length) {
            throw new LinuxException("write(" + what + ", \"" + new String(data, StandardCharsets.UTF_8).strip()
                    + "\") wrote " + n + " of " + data.length + " bytes", Errno.EIO);
        }
    }

    public static void mkdir(String path, int mode) throws LinuxException {
        try {
            LibcNative.mkdir(path, mode);
        } catch (LastErrorException e) {
            throw new LinuxException("mkdir(\"" + path + "\", 0" + Integer.toOctalString(mode) + ")", e.getErrorCode());
        }
    }

    public static void rmdir(String path) throws LinuxException {
        try {
            LibcNative.rmdir(path);
        } catch (LastErrorException e) {
            throw new LinuxException("rmdir(\"" + path + "\")", e.getErrorCode());
        }
    }

    public static int open(String path, int flags) throws LinuxException {
        try {
            return LibcNative.open(path, flags, 0);
        } catch (LastErrorException e) {
            throw new LinuxException("open(\"" + path + "\", 0x" + Integer.toHexString(flags) + ")", e.getErrorCode());
        }
    }

    public static void close(int fd) throws LinuxException {
        try {
            LibcNative.close(fd);
        } catch (LastErrorException e) {
            throw new LinuxException("close(" + fd + ")", e.getErrorCode());
        }
    }

    public static int gettid() {
        return LibcNative.gettid();
    }

    public static int getpid() {
        return LibcNative.getpid();
    }

    public static int geteuid() {
        return LibcNative.geteuid();
    }

    /** pidfd_open(2): a descriptor that stays bound to this process even if its PID is reused. */
    public static int pidfdOpen(int pid) throws LinuxException {
        try {
            return LibcNative.syscall(new NativeLong(Syscalls.PIDFD_OPEN), pid, 0).intValue();
        } catch (LastErrorException e) {
            throw new LinuxException("pidfd_open(" + pid + ", 0)", e.getErrorCode());
        }
    }

    /** pidfd_send_signal(2). */
    public static void pidfdSendSignal(int pidfd, int sig) throws LinuxException {
        try {
            LibcNative.syscall(new NativeLong(Syscalls.PIDFD_SEND_SIGNAL), pidfd, sig, (Pointer) null, 0);
        } catch (LastErrorException e) {
            throw new LinuxException("pidfd_send_signal(" + pidfd + ", " + sig + ")", e.getErrorCode());
        }
    }

    /** utimensat(2) with nanosecond times {atimeSec, atimeNsec, mtimeSec, mtimeNsec}; never follows a symlink. */
    public static void lutimes(String path, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec) throws LinuxException {
        try {
            LibcNative.utimensat(AT_FDCWD, path, new long[]{atimeSec, atimeNsec, mtimeSec, mtimeNsec}, AT_SYMLINK_NOFOLLOW);
        } catch (LastErrorException e) {
            throw new LinuxException("utimensat(AT_FDCWD, \"" + path + "\", {" + atimeSec + "," + mtimeSec + "}, AT_SYMLINK_NOFOLLOW)",
                    e.getErrorCode());
        }
    }

    public static void prctl(int option, long arg2) throws LinuxException {
        try {
            LibcNative.prctl(option, new NativeLong(arg2), new NativeLong(0), new NativeLong(0), new NativeLong(0));
        } catch (LastErrorException e) {
            throw new LinuxException("prctl(" + option + ", " + arg2 + ")", e.getErrorCode());
        }
    }
}
