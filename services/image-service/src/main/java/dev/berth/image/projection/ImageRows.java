package dev.berth.image.projection;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.berth.events.Json;
import dev.berth.image.domain.ImageEvent;

import java.util.List;
import java.util.Map;

/** Reads the JSON columns of {@link ImageView}. */
public final class ImageRows {

    private ImageRows() {
    }

    public static List<String> strings(String json) {
        return read(json, new TypeReference<>() {
        });
    }

    public static Map<String, String> stringMap(String json) {
        return read(json, new TypeReference<>() {
        });
    }

    public static List<ImageEvent.Layer> layers(String json) {
        return read(json, new TypeReference<>() {
        });
    }

    public static ImageEvent.RuntimeConfig runtime(String json) {
        return read(json, new TypeReference<>() {
        });
    }

    private static <T> T read(String json, TypeReference<T> type) {
        try {
            return Json.mapper().readValue(json, type);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("corrupt image read model: " + e.getOriginalMessage(), e);
        }
    }
}
