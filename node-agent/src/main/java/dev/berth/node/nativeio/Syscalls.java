package dev.berth.node.nativeio;

/** Numbers of the system calls glibc does not wrap, per architecture. */
final class Syscalls {
    static final long PIDFD_OPEN;
    static final long PIDFD_SEND_SIGNAL;
    static final long PIVOT_ROOT;

    static {
        String arch = System.getProperty("os.arch");
        switch (arch) {
            case "amd64", "x86_64" -> {
                PIDFD_OPEN = 434;
                PIDFD_SEND_SIGNAL = 424;
                PIVOT_ROOT = 155;
            }
            case "aarch64", "arm64" -> {
                PIDFD_OPEN = 434;
                PIDFD_SEND_SIGNAL = 424;
                PIVOT_ROOT = 41;
            }
            default -> throw new ExceptionInInitializerError("unsupported architecture " + arch);
        }
    }

    private Syscalls() {
    }
}
