package dev.berth.container.projection;

import dev.berth.container.domain.ContainerEvent;
import dev.berth.container.domain.ContainerEvent.ContainerCreated;
import dev.berth.container.domain.ContainerEvent.ContainerDied;
import dev.berth.container.domain.ContainerEvent.ContainerPaused;
import dev.berth.container.domain.ContainerEvent.ContainerRemoved;
import dev.berth.container.domain.ContainerEvent.ContainerRenamed;
import dev.berth.container.domain.ContainerEvent.ContainerRestartedByPolicy;
import dev.berth.container.domain.ContainerEvent.ContainerStartFailed;
import dev.berth.container.domain.ContainerEvent.ContainerStarted;
import dev.berth.container.domain.ContainerEvent.ContainerUnpaused;
import dev.berth.container.domain.Status;
import dev.berth.container.domain.ContainerSpec;
import dev.berth.events.EventCodec;
import dev.berth.events.Json;
import dev.berth.eventstore.Projection;
import dev.berth.eventstore.StoredEvent;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.hibernate.reactive.mutiny.Mutiny;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Keeps {@code container_view} equal to the fold of the container events. */
@ApplicationScoped
public class ContainerProjection implements Projection {

    private static final EventCodec<ContainerEvent> CODEC = EventCodec.of(ContainerEvent.class);

    @Override
    public String name() {
        return "containers";
    }

    @Override
    public Uni<Void> apply(Mutiny.Session session, StoredEvent event) {
        if (!CODEC.knows(event.type())) {
            return Uni.createFrom().voidItem();
        }
        ContainerEvent decoded = CODEC.decode(event.type(), event.data());
        if (decoded instanceof ContainerCreated c) {
            ContainerView view = new ContainerView();
            view.id = c.containerId();
            view.tenant = event.tenant();
            view.name = c.name();
            view.image = c.spec().image();
            view.imageId = c.spec().imageId();
            view.command = command(c.spec().commandLine());
            view.createdAt = c.createdAt();
            view.created = c.createdAt().toString();
            view.state = "created";
            view.status = "Created";
            view.labelsJson = write(c.spec().labels());
            view.summaryJson = write(summary(c.spec()));
            view.specJson = write(c.spec());
            view.nodeId = c.nodeId();
            return session.persist(view).chain(session::flush);
        }
        if (decoded instanceof ContainerRemoved) {
            return session.find(ContainerView.class, decoded.containerId())
                    .chain(view -> view == null ? Uni.createFrom().voidItem() : session.remove(view))
                    .chain(session::flush)
                    .chain(() -> session.createNativeQuery("delete from exec_instance where container_id = ?1")
                            .setParameter(1, decoded.containerId()).executeUpdate())
                    .replaceWithVoid();
        }
        return session.find(ContainerView.class, decoded.containerId()).chain(view -> {
            if (view == null) {
                return Uni.createFrom().voidItem();
            }
            evolve(view, decoded);
            return session.flush();
        });
    }

    /** The row after one lifecycle event, with Docker's rules for which State fields each transition resets. */
    static void evolve(ContainerView view, ContainerEvent event) {
        if (event instanceof ContainerRenamed r) {
            view.name = r.newName();
        } else if (event instanceof ContainerStarted s) {
            view.nodeId = s.nodeId() == null ? view.nodeId : s.nodeId();
            running(view, s.pid(), s.startedAt(), s.network());
            // a start by a client resets the policy's count, as the node does
            view.restartCount = 0;
        } else if (event instanceof ContainerRestartedByPolicy r) {
            running(view, r.pid(), r.startedAt(), r.network());
            view.restartCount = r.restartCount();
        } else if (event instanceof ContainerStartFailed f) {
            view.exitCode = f.exitCode();
            view.error = f.message() == null ? "" : f.message();
        } else if (event instanceof ContainerDied d) {
            view.state = d.willRestart() ? "restarting" : "exited";
            view.pid = 0;
            view.exitCode = d.exitCode();
            view.oomKilled = d.oomKilled();
            view.finishedAt = Status.rfc3339(d.finishedAt());
        } else if (event instanceof ContainerPaused) {
            view.state = "paused";
        } else if (event instanceof ContainerUnpaused) {
            view.state = "running";
        }
        view.status = baseStatus(view.state);
    }

    private static void running(ContainerView view, int pid, java.time.Instant startedAt, ContainerEvent.Network network) {
        view.state = "running";
        view.pid = pid;
        view.startedAt = Status.rfc3339(startedAt);
        view.exitCode = 0;
        view.oomKilled = false;
        view.error = "";
        view.networkJson = network == null ? null : write(network);
    }

    /** The stored status word; the time-dependent Status line is computed when read (Status.of). */
    private static String baseStatus(String state) {
        return switch (state) {
            case "created" -> "Created";
            case "running" -> "Up";
            case "paused" -> "Paused";
            case "restarting" -> "Restarting";
            default -> "Exited";
        };
    }

    static String write(Object value) {
        try {
            return Json.mapper().writeValueAsString(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public Uni<Void> reset(Mutiny.Session session) {
        return session.createNativeQuery("delete from container_view").executeUpdate().replaceWithVoid();
    }

    /** Docker's {@code Command} column: the command line, an argument with blanks or quotes in single quotes. */
    static String command(List<String> line) {
        List<String> words = new ArrayList<>();
        for (String w : line) {
            words.add(w.isEmpty() || w.matches(".*[\\s'\"\\\\$`].*") ? "'" + w.replace("'", "'\\''") + "'" : w);
        }
        return String.join(" ", words);
    }

    /** The list fields of a container that is not running: exposed ports unpublished, its network, its mounts. */
    static Map<String, Object> summary(ContainerSpec spec) {
        List<Map<String, Object>> ports = new ArrayList<>();
        for (String port : spec.exposedPorts()) {
            String[] p = port.split("/", 2);
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("PrivatePort", Integer.parseInt(p[0]));
            entry.put("Type", p.length > 1 ? p[1] : "tcp");
            ports.add(entry);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("Ports", ports);
        out.put("HostConfig", Map.of("NetworkMode", spec.host().networkMode()));
        Map<String, Object> networks = new LinkedHashMap<>();
        String network = networkName(spec.host().networkMode());
        if (!network.isEmpty()) {
            networks.put(network, endpoint());
        }
        out.put("NetworkSettings", Map.of("Networks", networks));
        out.put("Mounts", mounts(spec.host().binds()));
        return out;
    }

    /** The network a mode names: {@code default} is the bridge; {@code container:x} joins another's and has none. */
    public static String networkName(String mode) {
        if (mode.isEmpty() || "default".equals(mode)) {
            return "bridge";
        }
        return mode.startsWith("container:") ? "" : mode;
    }

    /** An endpoint of a container that never ran: no address yet. */
    public static Map<String, Object> endpoint() {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("IPAMConfig", null);
        e.put("Links", null);
        e.put("Aliases", null);
        e.put("NetworkID", "");
        e.put("EndpointID", "");
        e.put("Gateway", "");
        e.put("IPAddress", "");
        e.put("IPPrefixLen", 0);
        e.put("IPv6Gateway", "");
        e.put("GlobalIPv6Address", "");
        e.put("GlobalIPv6PrefixLen", 0);
        e.put("MacAddress", "");
        e.put("DriverOpts", null);
        return e;
    }

    /** Docker's Mounts entries for {@code Binds}: {@code /host:/ctr[:ro]} is a bind, {@code name:/ctr} a volume. */
    public static List<Map<String, Object>> mounts(List<String> binds) {
        List<Map<String, Object>> mounts = new ArrayList<>();
        for (String bind : binds) {
            String[] parts = bind.split(":");
            String mode = parts.length > 2 ? parts[2] : "";
            Map<String, Object> m = new LinkedHashMap<>();
            boolean isBind = parts[0].startsWith("/");
            m.put("Type", isBind ? "bind" : "volume");
            if (!isBind) {
                m.put("Name", parts[0]);
            }
            m.put("Source", isBind ? parts[0] : "");
            m.put("Destination", parts[1]);
            m.put("Driver", isBind ? null : "local");
            m.put("Mode", mode);
            m.put("RW", !List.of(mode.split(",")).contains("ro"));
            m.put("Propagation", isBind ? "rprivate" : "");
            if (m.get("Driver") == null) {
                m.remove("Driver");
            }
            mounts.add(m);
        }
        return mounts;
    }
}
