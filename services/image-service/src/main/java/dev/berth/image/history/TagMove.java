package dev.berth.image.history;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * One move of a tag, as {@code GET /_berth/tags/{ref}/history} lists it.
 *
 * @param position  the event's global position: moves of one tag are ordered by it
 * @param imageId   the image the tag was pointed at ({@code tagged}) or taken from ({@code untagged})
 * @param action    {@value #TAGGED} or {@value #UNTAGGED}
 * @param eventType the CloudEvents type of the event (an image arriving with the tag, or a tag event)
 * @param eventId   the CloudEvents id, to find the event on {@code berth.images.events}
 * @param time      when the event was appended
 */
public record TagMove(long position, String imageId, String action, String eventType, UUID eventId, Instant time) {

    public static final String TAGGED = "tagged";
    public static final String UNTAGGED = "untagged";

    static TagMove of(Object[] row) {
        Object at = row[5];
        Instant time = at instanceof OffsetDateTime o ? o.toInstant() : at instanceof Instant i ? i
                : ((java.time.LocalDateTime) at).toInstant(java.time.ZoneOffset.UTC);
        Object id = row[4];
        return new TagMove(((Number) row[0]).longValue(), (String) row[1], (String) row[2], (String) row[3],
                id instanceof UUID u ? u : UUID.fromString(id.toString()), time);
    }
}
