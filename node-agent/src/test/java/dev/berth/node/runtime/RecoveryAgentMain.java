package dev.berth.node.runtime;

import java.nio.file.Path;

/**
 * A stand-in node agent for the recovery test, run in its own JVM: creates and starts one container, prints
 * "STARTED <pid>", then idles until it is killed.
 * Arguments: stateRoot runRoot shim rootfs id.
 */
public final class RecoveryAgentMain {
    private RecoveryAgentMain() {
    }

    public static void main(String[] args) throws Exception {
        ShimRuntime rt = new ShimRuntime(new ShimRuntime.Config(Path.of(args[0]), Path.of(args[1]), Path.of(args[2])),
                null, null, null);
        rt.create(args[4], ContainerSpec.builder().rootfs(Path.of(args[3]))
                .cmd("/bin/sh", "-c", "echo up; until [ -f /tmp/release ]; do sleep 0.05; done; echo done; exit 7").build());
        ContainerState st = rt.start(args[4]);
        System.out.println("STARTED " + st.pid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
