package dev.berth.events;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The CloudEvents type of an event record, {@code dev.berth.<aggregate>.<past-tense-verb>.v<N>}. Every record under
 * an aggregate's sealed event interface carries one; the codec maps types to records through it.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface EventType {
    String value();
}
