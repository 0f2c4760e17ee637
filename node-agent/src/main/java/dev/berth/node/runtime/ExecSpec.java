package dev.berth.node.runtime;

import java.util.List;

/**
 * A process to run in a running container ({@code docker exec}).
 *
 * @param cmd        the command (must not be empty)
 * @param env        extra "KEY=value" entries, added to the container's environment
 * @param user       as in {@link ContainerSpec#user()}; null or "" means the container's user
 * @param workingDir null or "" means the container's working directory
 * @param privileged all capabilities for this process
 */
public record ExecSpec(List<String> cmd, List<String> env, String user, String workingDir, boolean tty,
                       boolean attachStdin, boolean privileged) {
    public ExecSpec {
        cmd = cmd == null ? List.of() : List.copyOf(cmd);
        env = env == null ? List.of() : List.copyOf(env);
    }

    public static ExecSpec of(String... cmd) {
        return new ExecSpec(List.of(cmd), List.of(), null, null, false, false, false);
    }
}
