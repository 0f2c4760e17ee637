package dev.berth.node.runtime;

import java.time.Instant;

/**
 * What {@code docker inspect} shows under State, as far as the node knows it.
 *
 * @param status     created, running, paused or exited (Docker's names)
 * @param pid        host PID of the container's first process while it runs, else 0
 * @param exitCode   the process's own code, or 128+n when killed by signal n; 126/127 after a failed exec
 * @param oomKilled  whether the kernel's OOM killer killed a process of the container during its last run
 * @param error      the start failure's message, or null
 * @param startedAt  null before the first start
 * @param finishedAt null until the first exit
 */
public record ContainerState(String id, Status status, int pid, int exitCode, boolean oomKilled, String error,
                             Instant startedAt, Instant finishedAt) {

    public enum Status {
        CREATED("created"), RUNNING("running"), PAUSED("paused"), EXITED("exited");

        private final String dockerName;

        Status(String dockerName) {
            this.dockerName = dockerName;
        }

        /** The name the Engine API uses (State.Status). */
        public String dockerName() {
            return dockerName;
        }
    }

    public boolean running() {
        return status == Status.RUNNING || status == Status.PAUSED;
    }
}
