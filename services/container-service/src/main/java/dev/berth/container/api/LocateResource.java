package dev.berth.container.api;

import dev.berth.container.nodes.NodeDirectory;
import dev.berth.container.persistence.ContainerRepository;
import dev.berth.container.projection.ContainerView;
import dev.berth.engineapi.Tenants;
import dev.berth.events.DomainException;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import org.hibernate.reactive.mutiny.Mutiny;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a container's data plane is, for the gateway: it sends logs, attach, exec start and the other streams
 * (docs/containers.md) straight to the node found here. Internal: not part of the Engine API.
 */
@Path("/_berth/locate")
@Produces(MediaType.APPLICATION_JSON)
public class LocateResource {

    private final ContainerRepository containers;
    private final NodeDirectory nodes;
    private final Mutiny.SessionFactory sessions;

    public LocateResource(ContainerRepository containers, NodeDirectory nodes, Mutiny.SessionFactory sessions) {
        this.containers = containers;
        this.nodes = nodes;
        this.sessions = sessions;
    }

    /** {@code {"Id","Node","Address","State","Name"}} of a container by id, name, /name or id prefix. */
    @GET
    @Path("/containers/{ref}")
    public Uni<Map<String, Object>> locateContainer(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                                    @PathParam("ref") String ref) {
        return found(Tenants.of(tenantHeader), ref).chain(this::location);
    }

    /** The location of the container an exec instance belongs to. */
    @GET
    @Path("/exec/{execId}")
    public Uni<Map<String, Object>> locateExec(@HeaderParam(Tenants.HEADER) String tenantHeader,
                                               @PathParam("execId") String execId) {
        String tenant = Tenants.of(tenantHeader);
        return sessions.withSession(s -> s.createNativeQuery("select container_id from exec_instance"
                        + " where exec_id = ?1 and tenant = ?2", String.class)
                        .setParameter(1, execId).setParameter(2, tenant).getResultList())
                .chain(ids -> {
                    if (ids.isEmpty()) {
                        throw DomainException.notFound("No such exec instance: " + execId);
                    }
                    return containers.byId(ids.get(0));
                })
                .chain(view -> {
                    if (view == null || !view.tenant.equals(tenant)) {
                        throw DomainException.notFound("No such exec instance: " + execId);
                    }
                    return location(view);
                });
    }

    private Uni<ContainerView> found(String tenant, String ref) {
        return containers.find(tenant, ref).map(view -> {
            if (view == null) {
                throw DomainException.notFound("No such container: " + ref);
            }
            return view;
        });
    }

    Uni<String> address(ContainerView view) {
        return nodes.find(view.nodeId).map(node -> {
            if (node == null) {
                throw new DomainException(503, "node " + view.nodeId + " of container " + view.id
                        + " has not reported where its data plane is");
            }
            return node.address();
        });
    }

    private Uni<Map<String, Object>> location(ContainerView view) {
        return address(view).map(address -> {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("Id", view.id);
            out.put("Node", view.nodeId);
            out.put("Address", address);
            out.put("State", view.state);
            out.put("Name", "/" + view.name);
            return out;
        });
    }
}
