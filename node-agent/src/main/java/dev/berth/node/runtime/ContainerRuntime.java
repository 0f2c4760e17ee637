package dev.berth.node.runtime;

import dev.berth.node.cgroup.CgroupManager;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Containers on this node: from a spec to a running, isolated process and back to nothing. Containers keep running,
 * logging and recording their exit while the agent is down (each has a berth-shim process); a new instance over the
 * same state and run roots finds them again.
 *
 * <p>Failure modes: every method throws {@link RuntimeFailure} with the Engine API status for user errors (404 no
 * such container, 409 wrong state, 400 bad input) and {@link StartFailure} when the process cannot be started;
 * other {@link IOException}s name the system call or file that failed. A failed {@link #create} leaves nothing
 * behind; a failed {@link #start} leaves the container created, with no cgroup, network or process.
 */
public interface ContainerRuntime extends AutoCloseable {

    /** Prepares the root filesystem and checks the spec (user, capabilities, mounts, limits' names). */
    ContainerState create(String id, ContainerSpec spec) throws IOException;

    /**
     * Creates the cgroup and network, and starts the process; returns once it runs (after execve). Starting a
     * running container changes nothing.
     */
    ContainerState start(String id) throws IOException;

    /**
     * Starts with an attach stream connected before the process runs, so no output is lost ({@code docker run}).
     * The caller closes the stream.
     */
    AttachStream startAttached(String id) throws IOException;

    /** Attaches to a running container: output from now on, and stdin when it is open. */
    AttachStream attach(String id) throws IOException;

    /**
     * Sends the stop signal (the spec's, else SIGTERM), waits up to {@code timeout} (null: the spec's, else 10 s),
     * then SIGKILL; returns the exited state. A container that is not running is returned as it is.
     */
    default ContainerState stop(String id, Duration timeout) throws IOException {
        return stop(id, null, timeout);
    }

    /**
     * As {@link #stop(String, Duration)} with {@code signal} ("SIGUSR1", "USR1", "10") in place of the spec's stop
     * signal when not null.
     *
     * @throws RuntimeFailure 400 for a signal that is not one
     */
    ContainerState stop(String id, String signal, Duration timeout) throws IOException;

    /** Sends a signal ("KILL", "SIGHUP", "15"; null means SIGKILL) to the container's first process. */
    void kill(String id, String signal) throws IOException;

    /** Freezes every process of the container (cgroup freezer). */
    void pause(String id) throws IOException;

    void unpause(String id) throws IOException;

    /** Resizes the container's TTY. */
    void resize(String id, int rows, int cols) throws IOException;

    /**
     * Waits until the container is not running (and the {@link #onExit} listeners have been called for that exit), or
     * the timeout passes; returns the state then.
     */
    ContainerState waitForExit(String id, Duration timeout) throws IOException;

    /** Runs a process in the running container; with {@code attach}, its stream is connected before it starts. */
    ExecProcess exec(String containerId, ExecSpec spec, boolean attach) throws IOException;

    /** The container's processes, as {@code docker top} shows them (UID PID PPID C STIME TTY TIME CMD). */
    TopResult top(String id) throws IOException;

    /** Resource usage from the container's cgroup. */
    CgroupManager.CgroupStats stats(String id) throws IOException;

    ContainerState state(String id) throws IOException;

    List<ContainerState> list();

    /** Reads the container's json-file log; the consumer returns false to stop (e.g. when a follower goes away). */
    void logs(String id, LogOptions options, Predicate<LogEntry> consumer) throws IOException;

    /**
     * Removes the container and everything of it: process (only with {@code force} when running, else 409), shim,
     * cgroup, network, snapshot, state and log files.
     */
    void remove(String id, boolean force) throws IOException;

    /** Called with the new state each time a container exits (also for exits found at recovery). */
    void onExit(Consumer<ContainerState> listener);

    /** {@code docker top}'s table. */
    record TopResult(List<String> titles, List<List<String>> processes) {
    }

    /** Stops watching containers; they keep running. */
    @Override
    void close();
}
