package dev.berth.container.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.container.nodes.NodeDirectory;
import dev.berth.container.projection.ContainerView;
import dev.berth.events.DomainException;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.hibernate.reactive.mutiny.Mutiny;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Exec creation, which goes through container-service so that the exec id can later be located: the node creates the
 * exec instance on its data plane, this service records exec id to (tenant, container) and answers as the node did.
 */
@ApplicationScoped
public class Execs {

    private final NodeDirectory nodes;
    private final Mutiny.SessionFactory sessions;
    private final ObjectMapper json;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public Execs(NodeDirectory nodes, Mutiny.SessionFactory sessions, ObjectMapper json) {
        this.nodes = nodes;
        this.sessions = sessions;
        this.json = json;
    }

    /**
     * Forwards {@code POST /containers/{id}/exec} to the container's node, body as received; a 201 is recorded and
     * every answer is passed back with the node's status and body (400 bad body, 409...).
     *
     * @throws DomainException 409 {@code Container <id> is not running} / paused, 503 unknown node, 500 unreachable
     */
    public Uni<Response> create(String tenant, ContainerView view, byte[] body) {
        if (!"running".equals(view.state) && !"paused".equals(view.state) && !"restarting".equals(view.state)) {
            throw DomainException.conflict("Container " + view.id + " is not running");
        }
        if ("paused".equals(view.state)) {
            throw DomainException.conflict("Container " + view.id + " is paused, unpause the container before exec");
        }
        return nodes.find(view.nodeId).chain(node -> {
            if (node == null) {
                throw new DomainException(503, "node " + view.nodeId + " of container " + view.id
                        + " has not reported where its data plane is");
            }
            String address = node.address();
            return Uni.createFrom().completionStage(() -> http.sendAsync(
                            HttpRequest.newBuilder(URI.create("http://" + address + "/containers/" + view.id + "/exec"))
                                    .timeout(Duration.ofSeconds(30))
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofByteArray(body == null ? new byte[0] : body))
                                    .build(), HttpResponse.BodyHandlers.ofByteArray()))
                    .onFailure(e -> !(e instanceof DomainException)).transform(e -> new DomainException(500,
                            "cannot reach node " + view.nodeId + " at " + address + ": " + e.getMessage()));
        }).chain(answer -> {
            Response passed = Response.status(answer.statusCode()).type(MediaType.APPLICATION_JSON)
                    .entity(answer.body()).build();
            if (answer.statusCode() != 201) {
                return Uni.createFrom().item(passed);
            }
            String execId = execId(answer.body());
            return sessions.withTransaction(s -> s.createNativeQuery("insert into exec_instance"
                            + " (exec_id, tenant, container_id) values (?1, ?2, ?3) on conflict (exec_id) do nothing")
                    .setParameter(1, execId).setParameter(2, tenant).setParameter(3, view.id)
                    .executeUpdate()).replaceWith(passed);
        });
    }

    private String execId(byte[] body) {
        try {
            JsonNode node = json.readTree(body);
            String id = node.path("Id").asText("");
            if (id.isEmpty()) {
                throw new DomainException(500, "the node answered an exec create without an Id");
            }
            return id;
        } catch (java.io.IOException e) {
            throw new DomainException(500, "the node answered an exec create with invalid JSON: " + e.getMessage());
        }
    }

}
