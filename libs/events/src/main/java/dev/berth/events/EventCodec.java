package dev.berth.events;

import com.fasterxml.jackson.core.JsonProcessingException;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Maps the records of one event family (a sealed interface whose permitted subclasses are records annotated with
 * {@link EventType}) to and from their CloudEvents type and JSON payload.
 *
 * <p>Built once per family and cached ({@link #of}). Decoding tolerates unknown fields and explicit nulls.
 *
 * @param <E> the sealed event interface
 */
public final class EventCodec<E> {
    private static final Map<Class<?>, EventCodec<?>> CACHE = new ConcurrentHashMap<>();

    private final Class<E> family;
    private final Map<String, Class<? extends E>> byType;
    private final Map<Class<?>, String> typeByClass;

    private EventCodec(Class<E> family) {
        if (!family.isSealed()) {
            throw new IllegalArgumentException(family.getName() + " is not a sealed interface");
        }
        Map<String, Class<? extends E>> types = new LinkedHashMap<>();
        Map<Class<?>, String> classes = new LinkedHashMap<>();
        collect(family, family, types, classes);
        if (types.isEmpty()) {
            throw new IllegalArgumentException(family.getName() + " permits no @EventType record");
        }
        this.family = family;
        this.byType = Collections.unmodifiableMap(types);
        this.typeByClass = Collections.unmodifiableMap(classes);
    }

    @SuppressWarnings("unchecked")
    private static <E> void collect(Class<E> family, Class<?> node, Map<String, Class<? extends E>> types,
                                    Map<Class<?>, String> classes) {
        for (Class<?> sub : node.getPermittedSubclasses()) {
            if (sub.isSealed()) {
                collect(family, sub, types, classes);
                continue;
            }
            EventType annotation = sub.getAnnotation(EventType.class);
            if (annotation == null) {
                throw new IllegalArgumentException(sub.getName() + " (in " + family.getName()
                        + ") has no @EventType");
            }
            Class<? extends E> previous = types.putIfAbsent(annotation.value(), (Class<? extends E>) sub);
            if (previous != null) {
                throw new IllegalArgumentException("event type " + annotation.value() + " is declared by both "
                        + previous.getName() + " and " + sub.getName());
            }
            classes.put(sub, annotation.value());
        }
    }

    /** The codec of a sealed event family. */
    @SuppressWarnings("unchecked")
    public static <E> EventCodec<E> of(Class<E> family) {
        return (EventCodec<E>) CACHE.computeIfAbsent(family, EventCodec::new);
    }

    /** The sealed interface. */
    public Class<E> family() {
        return family;
    }

    /** Every type string of the family, mapped to its record. */
    public Map<String, Class<? extends E>> types() {
        return byType;
    }

    /** Whether the type belongs to this family (consumers skip the others). */
    public boolean knows(String type) {
        return byType.containsKey(type);
    }

    /** The CloudEvents type of an event. */
    public String typeOf(E event) {
        String type = typeByClass.get(event.getClass());
        if (type == null) {
            throw new IllegalArgumentException(event.getClass().getName() + " is not in " + family.getName());
        }
        return type;
    }

    /** The JSON payload of an event. */
    public String encode(E event) {
        return toJson(event);
    }

    /**
     * The event of a type from its JSON payload.
     *
     * @throws IllegalArgumentException if the type is not in this family or the payload is not valid JSON for it
     */
    public E decode(String type, String json) {
        Class<? extends E> target = byType.get(type);
        if (target == null) {
            throw new IllegalArgumentException("unknown event type '" + type + "' for " + family.getSimpleName());
        }
        try {
            return Json.mapper().readValue(json, target);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot read " + type + ": " + e.getOriginalMessage(), e);
        }
    }

    /** The event if its type is in this family, empty otherwise (a consumer of a shared topic). */
    public Optional<E> decodeIfKnown(String type, String json) {
        return knows(type) ? Optional.of(decode(type, json)) : Optional.empty();
    }

    /** Any object as JSON with the shared mapping. */
    public static String toJson(Object value) {
        try {
            return Json.mapper().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " as JSON: "
                    + e.getOriginalMessage(), e);
        }
    }
}
