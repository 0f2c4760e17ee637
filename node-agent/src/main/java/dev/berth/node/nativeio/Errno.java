package dev.berth.node.nativeio;

/** Names for the errno values Linux/x86_64 and aarch64 share. */
public final class Errno {
    public static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, ENOEXEC = 8,
            EBADF = 9, ECHILD = 10, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17,
            EXDEV = 18, ENODEV = 19, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOSPC = 28,
            EROFS = 30, EMLINK = 31, EPIPE = 32, ERANGE = 34, ENAMETOOLONG = 36, ENOSYS = 38, ENOTEMPTY = 39,
            ELOOP = 40, ENODATA = 61, EOPNOTSUPP = 95;

    private static final String[] NAMES = new String[134];

    static {
        String[][] pairs = {{"1", "EPERM"}, {"2", "ENOENT"}, {"3", "ESRCH"}, {"4", "EINTR"}, {"5", "EIO"}, {"6", "ENXIO"},
                {"7", "E2BIG"}, {"8", "ENOEXEC"}, {"9", "EBADF"}, {"10", "ECHILD"}, {"11", "EAGAIN"}, {"12", "ENOMEM"},
                {"13", "EACCES"}, {"14", "EFAULT"}, {"16", "EBUSY"}, {"17", "EEXIST"}, {"18", "EXDEV"}, {"19", "ENODEV"},
                {"20", "ENOTDIR"}, {"21", "EISDIR"}, {"22", "EINVAL"}, {"23", "ENFILE"}, {"24", "EMFILE"}, {"28", "ENOSPC"},
                {"30", "EROFS"}, {"31", "EMLINK"}, {"32", "EPIPE"}, {"34", "ERANGE"}, {"36", "ENAMETOOLONG"},
                {"38", "ENOSYS"}, {"39", "ENOTEMPTY"}, {"40", "ELOOP"}, {"61", "ENODATA"}, {"95", "EOPNOTSUPP"}};
        for (String[] p : pairs) {
            NAMES[Integer.parseInt(p[0])] = p[1];
        }
    }

    private Errno() {
    }

    public static String name(int errno) {
        return errno > 0 && errno < NAMES.length && NAMES[errno] != null ? NAMES[errno] : "errno " + errno;
    }

    public static String describe(int errno) {
        try {
            return LibcNative.strerror(errno);
        } catch (Throwable t) {
            return "unknown error";
        }
    }
}
