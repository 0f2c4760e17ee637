package dev.berth.eventstore;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.IdClass;
import jakarta.persistence.Table;

import java.io.Serializable;
import java.time.Instant;
import java.util.Objects;

/**
 * A row of {@code processed_messages}, mapped so services can query it; {@link IdempotentConsumer} writes it. Being an
 * entity also keeps Hibernate Reactive active in a service that has no entity of its own.
 */
@Entity
@Table(name = "processed_messages")
@IdClass(ProcessedMessage.Key.class)
public class ProcessedMessage {
    @Id
    @Column(name = "consumer")
    public String consumer;

    @Id
    @Column(name = "message_id")
    public String messageId;

    @Column(name = "processed_at", insertable = false, updatable = false)
    public Instant processedAt;

    /** The composite key. */
    public static class Key implements Serializable {
        public String consumer;
        public String messageId;

        public Key() {
        }

        public Key(String consumer, String messageId) {
            this.consumer = consumer;
            this.messageId = messageId;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Objects.equals(consumer, k.consumer) && Objects.equals(messageId, k.messageId);
        }

        @Override
        public int hashCode() {
            return Objects.hash(consumer, messageId);
        }
    }
}
