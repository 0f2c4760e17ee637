package dev.berth.gateway.events;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;

/**
 * One event as the Engine API shows it ({@code events.Message}).
 *
 * @param type       {@code container}, {@code image}, {@code network} or {@code volume}
 * @param action     Docker's action ({@code create}, {@code start}, {@code die}...)
 * @param actorId    the object's id (an image event's may be a reference)
 * @param attributes the actor's attributes, sorted by key as Go encodes a map
 * @param time       when it happened (the event's {@code ce_time})
 */
public record DockerEvent(String type, String action, String actorId, SortedMap<String, String> attributes, Instant time) {

    /**
     * The JSON object, fields in dockerd's order. The legacy {@code status}/{@code id}/{@code from} exist for
     * container and image events only ({@code from} for containers only).
     */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        boolean container = type.equals("container");
        if (container || type.equals("image")) {
            m.put("status", action);
            m.put("id", actorId);
            if (container && attributes.get("image") != null) {
                m.put("from", attributes.get("image"));
            }
        }
        m.put("Type", type);
        m.put("Action", action);
        Map<String, Object> actor = new LinkedHashMap<>();
        actor.put("ID", actorId);
        actor.put("Attributes", attributes);
        m.put("Actor", actor);
        m.put("scope", "local");
        m.put("time", time.getEpochSecond());
        m.put("timeNano", time.getEpochSecond() * 1_000_000_000L + time.getNano());
        return m;
    }
}
