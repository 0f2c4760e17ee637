package dev.berth.node.nativeio;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

/**
 * Raw glibc bindings (JNA direct mapping). Not used directly outside this package: {@link Libc} wraps each
 * call so that a failure carries errno, its name and the call with its arguments.
 */
final class LibcNative {
    static {
        Native.register(LibcNative.class, "c");
    }

    private LibcNative() {
    }

    static native int mount(String source, String target, String fstype, NativeLong flags, String data) throws LastErrorException;

    static native int umount2(String target, int flags) throws LastErrorException;

    static native int mknod(String path, int mode, long dev) throws LastErrorException;

    static native int mkfifo(String path, int mode) throws LastErrorException;

    static native int lchown(String path, int uid, int gid) throws LastErrorException;

    static native int chmod(String path, int mode) throws LastErrorException;

    static native int lsetxattr(String path, String name, byte[] value, NativeLong size, int flags) throws LastErrorException;

    static native NativeLong lgetxattr(String path, String name, byte[] value, NativeLong size) throws LastErrorException;

    static native NativeLong llistxattr(String path, byte[] list, NativeLong size) throws LastErrorException;

    static native int chdir(String path) throws LastErrorException;

    static native int setns(int fd, int nstype) throws LastErrorException;

    static native int unshare(int flags) throws LastErrorException;

    static native int kill(int pid, int sig) throws LastErrorException;

    static native int open(String path, int flags, int mode) throws LastErrorException;

    static native int close(int fd) throws LastErrorException;

    static native int gettid();

    static native int getpid();

    static native int geteuid();

    static native int prctl(int option, NativeLong arg2, NativeLong arg3, NativeLong arg4, NativeLong arg5) throws LastErrorException;

    // Direct mapping takes no varargs: one fixed signature per argument shape.
    static native NativeLong syscall(NativeLong number, int arg1, int arg2) throws LastErrorException;

    static native NativeLong syscall(NativeLong number, int arg1, int arg2, Pointer arg3, int arg4) throws LastErrorException;

    static native int utimensat(int dirfd, String path, long[] times, int flags) throws LastErrorException;

    static native int symlink(String target, String linkpath) throws LastErrorException;

    static native int link(String oldpath, String newpath) throws LastErrorException;

    static native String strerror(int errnum);

    static native Pointer getenv(String name);

    static native NativeLong write(int fd, byte[] buf, NativeLong count) throws LastErrorException;

    static native int mkdir(String path, int mode) throws LastErrorException;

    static native int rmdir(String path) throws LastErrorException;
}
