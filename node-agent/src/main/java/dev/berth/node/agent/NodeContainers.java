package dev.berth.node.agent;

import dev.berth.events.Json;
import dev.berth.events.node.NodeCommand;
import dev.berth.events.node.NodeContainerSpec;
import dev.berth.events.node.NodeObservation;
import dev.berth.node.cgroup.CgroupManager;
import dev.berth.node.images.ImageException;
import dev.berth.node.images.LayerFetcher;
import dev.berth.node.messaging.CommandHandler;
import dev.berth.node.messaging.ObservationPublisher;
import dev.berth.node.messaging.ObservationPublisher.Cause;
import dev.berth.node.network.InvalidNetworkSpecException;
import dev.berth.node.network.NodeNetwork;
import dev.berth.node.runtime.AttachStream;
import dev.berth.node.runtime.ContainerRuntime;
import dev.berth.node.runtime.ContainerSpec;
import dev.berth.node.runtime.ContainerState;
import dev.berth.node.runtime.RuntimeFailure;
import dev.berth.node.runtime.StartFailure;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The node's containers as the control plane sees them: carries out node commands over the {@link ContainerRuntime},
 * reports what happens (through the {@link ObservationPublisher}), applies restart policies and AutoRemove.
 *
 * <p>Everything that happens to one container (its commands, its exits, policy restarts, auto-removal) runs on one
 * queue, in order, so its observations are in the order the facts happened: ContainerStarted before the
 * ContainerExited of a process that ends at once. Different containers proceed in parallel.
 */
public final class NodeContainers implements CommandHandler, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NodeContainers.class);

    private final String nodeId;
    private final ContainerRuntime runtime;
    private final NodeNetwork network;
    private final LayerFetcher layers;
    private final ObservationPublisher publisher;
    private final Path recordsDir;
    private final Map<String, ContainerRecord> records = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<Void>> queues = new HashMap<>();
    private final Map<String, Cause> exitCauses = new ConcurrentHashMap<>();
    private final Map<String, Duration> restartDelays = new ConcurrentHashMap<>();
    private final Set<String> removing = ConcurrentHashMap.newKeySet();
    private final Map<String, List<CompletableFuture<AttachStream>>> attachWaiters = new ConcurrentHashMap<>();
    private final ExecutorService workers;
    private final ScheduledExecutorService timers;
    private volatile boolean closed;

    /**
     * @param network    the runtime's network, to report addresses and ports as bound (null: none reported)
     * @param recordsDir where the agent keeps its {@link ContainerRecord}s
     */
    public NodeContainers(String nodeId, ContainerRuntime runtime, NodeNetwork network, LayerFetcher layers,
                          ObservationPublisher publisher, Path recordsDir) throws IOException {
        this.nodeId = nodeId;
        this.runtime = runtime;
        this.network = network;
        this.layers = layers;
        this.publisher = publisher;
        this.recordsDir = Files.createDirectories(recordsDir);
        this.workers = Executors.newCachedThreadPool(named("berth-node-worker"));
        this.timers = Executors.newSingleThreadScheduledExecutor(named("berth-node-timer"));
        loadRecords();
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    private void loadRecords() throws IOException {
        try (Stream<Path> files = Files.list(recordsDir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (f.getFileName().toString().endsWith(".json")) {
                    ContainerRecord r = Json.mapper().readValue(f.toFile(), ContainerRecord.class);
                    records.put(r.id(), r);
                }
            }
        }
    }

    /**
     * Starts watching exits and reports the node's containers as they are now: first the exits that happened while
     * the agent was down (with their restart policy and AutoRemove applied), then each container's state.
     */
    public void recover() {
        runtime.onExit(st -> submit(st.id(), () -> handleExit(st, null)));
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (ContainerState st : runtime.list()) {
            all.add(submit(st.id(), () -> {
                ContainerRecord r = records.get(st.id());
                ContainerState now = runtime.state(st.id());
                if (now.status() == ContainerState.Status.EXITED && now.finishedAt() != null
                        && (r == null || !now.finishedAt().equals(r.reportedFinishedAt()))) {
                    handleExit(now, null);
                }
                if (!runtime.list().stream().anyMatch(s -> s.id().equals(st.id()))) {
                    return; // auto-removed just now
                }
                now = runtime.state(st.id());
                publisher.publish(Cause.NONE, new NodeObservation.ContainerStateReported(nodeId, now.id(),
                        now.status().dockerName(), now.pid(), now.exitCode(), now.startedAt(), now.finishedAt()));
            }));
        }
        // Records of containers the runtime no longer has (removed while a command was cut short): drop them.
        for (String id : List.copyOf(records.keySet())) {
            if (runtime.list().stream().noneMatch(s -> s.id().equals(id))) {
                deleteRecord(id);
            }
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
    }

    // ------------------------------------------------------------------------------------------------ queues

    private interface Task {
        void run() throws Exception;
    }

    private CompletableFuture<Void> submit(String containerId, Task task) {
        synchronized (queues) {
            CompletableFuture<Void> prev = queues.getOrDefault(containerId, CompletableFuture.completedFuture(null));
            CompletableFuture<Void> next = prev.handle((ok, e) -> (Void) null).thenRunAsync(() -> {
                if (closed) {
                    throw new IllegalStateException("the agent is shutting down");
                }
                try {
                    task.run();
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, workers);
            queues.put(containerId, next);
            next.whenComplete((ok, e) -> {
                synchronized (queues) {
                    queues.remove(containerId, next);
                }
            });
            return next;
        }
    }

    @Override
    public CompletableFuture<Void> submit(NodeCommand command, String type, Cause cause) {
        String id = command.containerId() == null ? "" : command.containerId();
        return submit(id, () -> {
            List<NodeObservation> answer;
            try {
                answer = execute(command, type, cause);
            } catch (RuntimeFailure e) {
                answer = List.of(failed(command, type, e.status(), e.getMessage()));
            } catch (ImageException e) {
                answer = List.of(failed(command, type, e.status(), e.getMessage()));
            } catch (InvalidNetworkSpecException | IllegalArgumentException e) {
                answer = List.of(failed(command, type, 400, e.getMessage()));
            } catch (IOException | RuntimeException e) {
                LOG.errorf(e, "%s for %s failed", type, id);
                answer = List.of(failed(command, type, 500, e.getMessage() == null ? e.toString() : e.getMessage()));
            }
            publisher.publish(cause, answer);
        });
    }

    private NodeObservation failed(NodeCommand c, String type, int status, String message) {
        return new NodeObservation.CommandFailed(nodeId, c.containerId(), type, status, message);
    }

    // ------------------------------------------------------------------------------------------------ commands

    private List<NodeObservation> execute(NodeCommand command, String type, Cause cause) throws IOException {
        String id = command.containerId();
        if (id == null || id.isEmpty()) {
            throw RuntimeFailure.badRequest("the command names no container");
        }
        if (command instanceof NodeCommand.CreateContainer c) {
            return create(id, c.spec());
        } else if (command instanceof NodeCommand.StartContainer) {
            return start(id);
        } else if (command instanceof NodeCommand.StopContainer s) {
            return stop(id, s.timeoutSeconds(), s.signal(), type, cause);
        } else if (command instanceof NodeCommand.RestartContainer r) {
            List<NodeObservation> out = new ArrayList<>();
            if (runtime.state(id).running()) {
                stop(id, r.timeoutSeconds(), r.signal(), type, cause);
            }
            out.addAll(start(id));
            return out;
        } else if (command instanceof NodeCommand.KillContainer k) {
            return kill(id, k.signal(), cause);
        } else if (command instanceof NodeCommand.PauseContainer) {
            runtime.pause(id);
            return List.of(new NodeObservation.ContainerPaused(nodeId, id));
        } else if (command instanceof NodeCommand.UnpauseContainer) {
            runtime.unpause(id);
            return List.of(new NodeObservation.ContainerUnpaused(nodeId, id));
        } else if (command instanceof NodeCommand.RemoveContainer r) {
            return remove(id, r.force(), cause);
        }
        throw RuntimeFailure.badRequest("unknown command " + command.getClass().getSimpleName());
    }

    private boolean exists(String id) {
        try {
            runtime.state(id);
            return true;
        } catch (RuntimeFailure e) {
            if (e.status() == 404) {
                return false;
            }
            throw new IllegalStateException(e);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private List<NodeObservation> create(String id, NodeContainerSpec spec) throws IOException {
        if (exists(id)) {
            ContainerRecord r = records.get(id);
            if (r == null) {
                r = new ContainerRecord(id, spec, null, Instant.now(), 0, false, null);
                saveRecord(r);
            } else if (spec != null && !spec.equals(r.spec())) {
                throw RuntimeFailure.conflict("Conflict. The container name \"" + id + "\" is already in use on node "
                        + nodeId + " by a container with another configuration");
            }
            return List.of(new NodeObservation.ContainerCreated(nodeId, id, r.createdAt()));
        }
        if (spec == null) {
            throw RuntimeFailure.badRequest("CreateContainer without a spec");
        }
        if (spec.restartPolicy() != null) {
            RestartPolicy.validate(spec.restartPolicy().name(), spec.restartPolicy().maximumRetryCount());
        }
        if (spec.image() == null || spec.image().layers() == null || spec.image().layers().isEmpty()) {
            throw RuntimeFailure.badRequest("the image of container " + id + " has no layers");
        }
        String chain = layers.ensure(spec.image().repository(), spec.image().layers());
        createBindSources(spec);
        ContainerSpec runtimeSpec = SpecMapping.toRuntime(spec, chain);
        ContainerRecord r = new ContainerRecord(id, spec, chain, Instant.now(), 0, false, null);
        saveRecord(r);
        try {
            runtime.create(id, runtimeSpec);
        } catch (IOException | RuntimeException e) {
            deleteRecord(id);
            throw e;
        }
        return List.of(new NodeObservation.ContainerCreated(nodeId, id, r.createdAt()));
    }

    // Docker makes a missing host directory of a -v bind (Binds) and leaves it after the container is gone.
    private static void createBindSources(NodeContainerSpec spec) throws IOException {
        if (spec.mounts() == null) {
            return;
        }
        for (NodeContainerSpec.Mount m : spec.mounts()) {
            if ("bind".equals(m.type()) && m.createSource() && m.source() != null && m.source().startsWith("/")
                    && !Files.exists(Path.of(m.source()))) {
                Files.createDirectories(Path.of(m.source()));
            }
        }
    }

    private List<NodeObservation> start(String id) throws IOException {
        ContainerState st = runtime.state(id);
        if (st.running()) {
            return List.of(started(st));
        }
        ContainerRecord r = records.get(id);
        if (r != null) {
            saveRecord(r.withManuallyStopped(false).withRestartCount(0));
        }
        restartDelays.remove(id);
        List<CompletableFuture<AttachStream>> waiters = attachWaiters.remove(id);
        try {
            if (waiters != null && !waiters.isEmpty()) {
                AttachStream first = runtime.startAttached(id);
                hand(waiters.get(0), first);
                for (CompletableFuture<AttachStream> w : waiters.subList(1, waiters.size())) {
                    try {
                        hand(w, runtime.attach(id));
                    } catch (IOException e) {
                        w.completeExceptionally(e);
                    }
                }
            } else {
                runtime.start(id);
            }
        } catch (StartFailure f) {
            if (waiters != null) {
                waiters.forEach(w -> w.completeExceptionally(f));
            }
            List<NodeObservation> out = new ArrayList<>();
            out.add(new NodeObservation.ContainerStartFailed(nodeId, id, f.status(), f.exitCode(), f.getMessage()));
            if (r != null && r.autoRemove()) {
                runtime.remove(id, true);
                deleteRecord(id);
                out.add(new NodeObservation.ContainerRemoved(nodeId, id, true));
            }
            return out;
        } catch (IOException | RuntimeException e) {
            if (waiters != null) {
                waiters.forEach(w -> w.completeExceptionally(e));
            }
            throw e;
        }
        return List.of(started(runtime.state(id)));
    }

    private static void hand(CompletableFuture<AttachStream> waiter, AttachStream stream) throws IOException {
        if (!waiter.complete(stream)) {
            stream.close(); // the client went away meanwhile
        }
    }

    private NodeObservation.ContainerStarted started(ContainerState st) throws IOException {
        return new NodeObservation.ContainerStarted(nodeId, st.id(), st.pid(), st.startedAt(), networkOf(st.id()));
    }

    private NodeObservation.NetworkSettings networkOf(String id) throws IOException {
        NodeNetwork.Attachment a = network == null ? null : network.find(id);
        if (a == null) {
            return null;
        }
        List<NodeContainerSpec.PortBinding> ports = new ArrayList<>();
        for (NodeNetwork.PortBinding p : a.ports()) {
            ports.add(new NodeContainerSpec.PortBinding(p.hostIp(), p.hostPort(), p.containerPort(), p.protocol()));
        }
        return new NodeObservation.NetworkSettings(a.mode(), a.ipAddress(), a.prefixLength(), a.gateway(),
                a.macAddress(), ports);
    }

    private List<NodeObservation> stop(String id, Integer timeoutSeconds, String signal, String type, Cause cause)
            throws IOException {
        ContainerState st = runtime.state(id);
        ContainerRecord r = records.get(id);
        if (r != null) {
            saveRecord(r.withManuallyStopped(true));
        }
        if (!st.running()) {
            return List.of(new NodeObservation.CommandFailed(nodeId, id, type, 304, "Container " + id
                    + " is not running"));
        }
        ContainerState after = runtime.stop(id, signal,
                timeoutSeconds == null ? null : Duration.ofSeconds(Math.max(0, timeoutSeconds)));
        handleExit(after, cause);
        return List.of();
    }

    private List<NodeObservation> kill(String id, String signal, Cause cause) throws IOException {
        ContainerRecord r = records.get(id);
        ContainerState st = runtime.state(id);
        if (!st.running()) {
            throw RuntimeFailure.conflict("Container " + id + " is not running");
        }
        exitCauses.put(id, cause);
        try {
            runtime.kill(id, signal);
        } catch (IOException | RuntimeException e) {
            exitCauses.remove(id, cause);
            throw e;
        }
        if (r != null) {
            saveRecord(r.withManuallyStopped(true));
        }
        return List.of(new NodeObservation.ContainerKilled(nodeId, id, signal == null ? "KILL" : signal));
    }

    private List<NodeObservation> remove(String id, boolean force, Cause cause) throws IOException {
        if (!exists(id)) {
            deleteRecord(id);
            return List.of(new NodeObservation.ContainerRemoved(nodeId, id, false));
        }
        ContainerState st = runtime.state(id);
        if (st.running() && !force) {
            throw RuntimeFailure.conflict("You cannot remove a running container " + id
                    + ". Stop the container before attempting removal or force remove");
        }
        removing.add(id);
        try {
            if (st.running()) {
                runtime.kill(id, "KILL");
                ContainerState after = runtime.waitForExit(id, Duration.ofSeconds(30));
                if (!after.running()) {
                    handleExit(after, cause);
                }
            }
            runtime.remove(id, true);
            deleteRecord(id);
            restartDelays.remove(id);
            List<CompletableFuture<AttachStream>> waiters = attachWaiters.remove(id);
            if (waiters != null) {
                waiters.forEach(w -> w.completeExceptionally(RuntimeFailure.notFound("No such container: " + id)));
            }
        } finally {
            removing.remove(id);
        }
        return List.of(new NodeObservation.ContainerRemoved(nodeId, id, false));
    }

    // ------------------------------------------------------------------------------------------------ exits

    /** Reports an exit once, then applies the restart policy or AutoRemove. Runs on the container's queue. */
    private void handleExit(ContainerState st, Cause given) throws IOException {
        String id = st.id();
        ContainerRecord r = records.get(id);
        if (st.finishedAt() == null || (r != null && st.finishedAt().equals(r.reportedFinishedAt()))) {
            return;
        }
        if (r == null && !exists(id)) {
            return;
        }
        Cause cause = given != null ? given : exitCauses.getOrDefault(id, Cause.NONE);
        exitCauses.remove(id);
        boolean restart = r != null && !removing.contains(id) && RestartPolicy.shouldRestart(r.restartPolicy(),
                r.maximumRetryCount(), r.restartCount(), st.exitCode(), r.manuallyStopped());
        publisher.publish(cause, new NodeObservation.ContainerExited(nodeId, id, st.exitCode(), st.oomKilled(),
                st.finishedAt(), restart));
        if (r == null) {
            return;
        }
        r = r.withReportedFinishedAt(st.finishedAt());
        saveRecord(r);
        if (restart) {
            Duration delay = RestartPolicy.nextDelay(restartDelays.get(id), st.startedAt(), st.finishedAt());
            restartDelays.put(id, delay);
            Instant finished = st.finishedAt();
            timers.schedule(() -> submit(id, () -> policyRestart(id, finished)), delay.toMillis(), TimeUnit.MILLISECONDS);
        } else if (r.autoRemove() && !removing.contains(id)) {
            runtime.remove(id, true);
            deleteRecord(id);
            publisher.publish(cause, new NodeObservation.ContainerRemoved(nodeId, id, true));
        }
    }

    private void policyRestart(String id, Instant exitedAt) throws IOException {
        ContainerRecord r = records.get(id);
        if (r == null || r.manuallyStopped() || !exists(id)) {
            return;
        }
        ContainerState st = runtime.state(id);
        if (st.running() || !exitedAt.equals(st.finishedAt())) {
            return; // started by a command meanwhile
        }
        r = r.withRestartCount(r.restartCount() + 1);
        saveRecord(r);
        try {
            runtime.start(id);
        } catch (StartFailure f) {
            publisher.publish(Cause.NONE, new NodeObservation.ContainerStartFailed(nodeId, id, f.status(),
                    f.exitCode(), f.getMessage()));
            ContainerState failedRun = runtime.state(id);
            if (RestartPolicy.shouldRestart(r.restartPolicy(), r.maximumRetryCount(), r.restartCount(), f.exitCode(),
                    false)) {
                Duration delay = RestartPolicy.nextDelay(restartDelays.get(id), null, null);
                restartDelays.put(id, delay);
                Instant at = failedRun.finishedAt() != null ? failedRun.finishedAt() : exitedAt;
                timers.schedule(() -> submit(id, () -> policyRestart(id, at)), delay.toMillis(), TimeUnit.MILLISECONDS);
            }
            return;
        }
        ContainerState now = runtime.state(id);
        publisher.publish(Cause.NONE, new NodeObservation.ContainerRestarted(nodeId, id, r.restartCount(), now.pid(),
                now.startedAt(), networkOf(id)));
    }

    // ------------------------------------------------------------------------------------------------ attach

    /**
     * An attach stream for a container: at once when it runs; when it is created but not started, the stream is
     * connected by the next start command before the process runs (what {@code docker run} needs, since it attaches
     * before it starts). The future fails if the start fails or the container is removed.
     */
    public CompletableFuture<AttachStream> attachOrAwaitStart(String id) throws IOException {
        ContainerState st = runtime.state(id);
        if (st.running()) {
            return CompletableFuture.completedFuture(runtime.attach(id));
        }
        CompletableFuture<AttachStream> f = new CompletableFuture<>();
        attachWaiters.computeIfAbsent(id, k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(f);
        // started between the check and the registration: attach now
        if (runtime.state(id).running()) {
            List<CompletableFuture<AttachStream>> w = attachWaiters.get(id);
            if (w != null && w.remove(f)) {
                f.complete(runtime.attach(id));
            }
        }
        return f;
    }

    /** Gives up a pending attach (the client went away). */
    public void cancelAttach(String id, CompletableFuture<AttachStream> f) {
        List<CompletableFuture<AttachStream>> w = attachWaiters.get(id);
        if (w != null) {
            w.remove(f);
        }
        f.thenAccept(s -> {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        });
        f.cancel(false);
    }

    // ------------------------------------------------------------------------------------------------ records

    /** The agent's record of a container, or null. */
    public ContainerRecord record(String id) {
        return records.get(id);
    }

    public ContainerRuntime runtime() {
        return runtime;
    }

    public String nodeId() {
        return nodeId;
    }

    private void saveRecord(ContainerRecord r) throws IOException {
        Path f = recordsDir.resolve(r.id() + ".json");
        Path tmp = recordsDir.resolve(r.id() + ".json.tmp");
        Files.write(tmp, Json.mapper().writeValueAsBytes(r));
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        records.put(r.id(), r);
    }

    private void deleteRecord(String id) {
        records.remove(id);
        try {
            Files.deleteIfExists(recordsDir.resolve(id + ".json"));
        } catch (IOException e) {
            LOG.warnf("cannot delete the record of %s: %s", id, e.getMessage());
        }
    }

    /** Running and total containers, for the heartbeat. */
    public int[] counts() {
        List<ContainerState> all = runtime.list();
        return new int[]{(int) all.stream().filter(ContainerState::running).count(), all.size()};
    }

    /** Resources of a running container (for stats), from the runtime. */
    public CgroupManager.CgroupStats stats(String id) throws IOException {
        return runtime.stats(id);
    }

    /** Stops taking work; containers keep running (their shims outlive the agent). */
    @Override
    public void close() {
        closed = true;
        timers.shutdownNow();
        workers.shutdownNow();
        try {
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
