package dev.berth.container.persistence;

import dev.berth.container.domain.ContainerEvent;
import dev.berth.events.DomainException;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Pending {@code POST /containers/{id}/wait} requests, completed by the container events this instance applies (the
 * observation consumer and the API both report every committed append here).
 */
@ApplicationScoped
public class Waits {

    /** Docker's wait conditions. */
    public enum Condition {
        NOT_RUNNING, NEXT_EXIT, REMOVED;

        /**
         * @throws DomainException 400 for anything but {@code not-running} (also empty), {@code next-exit}, {@code removed}
         */
        public static Condition parse(String value) {
            if (value == null || value.isEmpty() || value.equals("not-running")) {
                return NOT_RUNNING;
            }
            if (value.equals("next-exit")) {
                return NEXT_EXIT;
            }
            if (value.equals("removed")) {
                return REMOVED;
            }
            throw DomainException.badRequest("invalid condition: \"" + value + "\"");
        }
    }

    /** One pending wait; {@link #complete} ends it (first completion wins). */
    public final class Waiter {
        final Condition condition;
        final String containerId;
        final java.util.concurrent.CompletableFuture<Integer> result = new java.util.concurrent.CompletableFuture<>();
        volatile int exitCode;

        Waiter(String containerId, Condition condition, int exitCode) {
            this.containerId = containerId;
            this.condition = condition;
            this.exitCode = exitCode;
        }

        public Condition condition() {
            return condition;
        }

        /** Ends the wait with an exit code. */
        public void complete(int code) {
            result.complete(code);
        }

        /** Ends the wait with what it knows (the last exit code seen). */
        public void completeWithLast() {
            result.complete(exitCode);
        }

        /** The exit code once the condition holds; cancelling it drops the wait. */
        public Uni<Integer> result() {
            return Uni.createFrom().completionStage(result).onTermination().invoke(this::drop);
        }

        /** Drops the wait (the client went away). */
        public void drop() {
            List<Waiter> list = byContainer.get(containerId);
            if (list != null) {
                list.remove(this);
            }
        }
    }

    private final Map<String, List<Waiter>> byContainer = new ConcurrentHashMap<>();

    /**
     * Registers a wait before the caller reads the container's state (so no event falls between the read and the
     * registration); the caller then completes it at once if the condition already holds.
     *
     * @param exitCode the exit code known now (the answer if nothing else happens before it is completed)
     */
    public Waiter register(String containerId, Condition condition, int exitCode) {
        Waiter w = new Waiter(containerId, condition, exitCode);
        byContainer.computeIfAbsent(containerId, k -> new CopyOnWriteArrayList<>()).add(w);
        return w;
    }

    /** Reports committed events; completes the waits whose condition they satisfy. */
    public void applied(List<? extends ContainerEvent> events) {
        for (ContainerEvent e : events) {
            List<Waiter> list = byContainer.get(e.containerId());
            if (list == null) {
                continue;
            }
            for (Waiter w : list) {
                if (e instanceof ContainerEvent.ContainerStartFailed f) {
                    w.exitCode = f.exitCode();
                } else if (e instanceof ContainerEvent.ContainerDied d) {
                    w.exitCode = d.exitCode();
                    if (w.condition == Condition.NEXT_EXIT
                            || w.condition == Condition.NOT_RUNNING && !d.willRestart()) {
                        w.complete(w.exitCode);
                    }
                } else if (e instanceof ContainerEvent.ContainerRemoved) {
                    // a wait for the exit of a container that is gone ends too, with what it knew
                    w.complete(w.exitCode);
                }
            }
            if (e instanceof ContainerEvent.ContainerRemoved) {
                byContainer.remove(e.containerId());
            }
        }
    }
}
