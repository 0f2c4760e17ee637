package dev.berth.image.build;

import dev.berth.image.store.BlobStore;

import java.util.List;
import java.util.function.Consumer;

/**
 * Where RUN steps run: a container made from the image built so far, on a node. Implementations must leave no
 * container behind once {@link #remove} was called, even after a failure.
 */
public interface BuildContainers {

    /**
     * What a RUN step's container runs.
     *
     * @param cmd        the whole command (shell form: the stage's shell plus the text; exec form: the JSON array)
     * @param env        {@code K=V} entries: the image's Env plus the build args the step sees
     * @param workingDir the image's WorkingDir ("" for the default)
     * @param user       the image's User ("" for root)
     */
    record Spec(List<String> cmd, List<String> env, String workingDir, String user) {
    }

    /**
     * Creates a container from an image of the tenant (the image must already be in the store).
     *
     * @return the container id
     * @throws BuildException when the container cannot be created (its message is shown to the client)
     */
    String create(String tenant, String imageId, Spec spec);

    /**
     * Starts the container and waits for it to exit, passing its output (stdout and stderr, as text) on.
     *
     * @return the exit code
     * @throws BuildException when it cannot be started or waited for
     */
    int run(String tenant, String containerId, Consumer<String> output);

    /**
     * The container's filesystem changes as a layer (an OCI layer tar with {@code .wh.} whiteouts), staged in the blob
     * store and not yet visible.
     *
     * @throws BuildException when the node cannot produce it
     */
    BlobStore.Staged diff(String tenant, String containerId);

    /** Removes the container (force), ignoring one that is already gone. */
    void remove(String tenant, String containerId);
}
