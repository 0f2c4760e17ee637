package dev.berth.node.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A process that puts itself into a cgroup before it runs its workload: the shell writes its own PID into every
 * cgroup.procs file and only then execs busybox sh with the script, so nothing of the workload runs outside.
 */
final class Workload implements AutoCloseable {
    /** Exit status of the shell when it could not join the cgroup. */
    static final int JOIN_FAILED = 97;

    private final Process process;
    private final Path stderr;

    private Workload(Process process, Path stderr) {
        this.process = process;
        this.stderr = stderr;
    }

    static Workload startIn(CgroupManager.Cgroup cgroup, String script) throws IOException {
        return start(cgroup.procsFiles(), script);
    }

    static Workload start(List<String> procsFiles, String script) throws IOException {
        Path err = Files.createTempFile("berth-cgroup-test", ".stderr");
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c",
                "for f in $BERTH_PROCS; do echo $$ > \"$f\" || exit " + JOIN_FAILED + "; done; exec /bin/busybox sh -c \"$BERTH_WORK\"");
        pb.environment().put("BERTH_PROCS", String.join(" ", procsFiles));
        pb.environment().put("BERTH_WORK", script);
        pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.redirectError(err.toFile());
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        return new Workload(pb.start(), err);
    }

    int pid() {
        return (int) process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The exit status as Java reports it (128 + signal number when killed by a signal), or -1 on timeout. */
    int waitFor(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    }

    String stderr() throws IOException {
        return Files.readString(stderr);
    }

    @Override
    public void close() throws Exception {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
        Files.deleteIfExists(stderr);
    }

    /** True while a process with this PID exists and is not a zombie. */
    static boolean running(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String state = stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
            return !state.equals("Z") && !state.equals("X");
        } catch (IOException e) {
            return false;
        }
    }
}
