package dev.berth.image.domain;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The state of one tenant's image store: its images and which image each reference names.
 *
 * @param images by id
 * @param tags   familiar {@code repository:tag} to image id
 */
public record ImageStore(Map<String, ImageEvent.ImageAdded> images, Map<String, String> tags) {

    public static final ImageStore EMPTY = new ImageStore(Map.of(), Map.of());

    /** The references of an image, sorted. */
    public List<String> tagsOf(String imageId) {
        return new TreeMap<>(tags).entrySet().stream().filter(e -> e.getValue().equals(imageId))
                .map(Map.Entry::getKey).toList();
    }

    ImageStore with(Map<String, ImageEvent.ImageAdded> images, Map<String, String> tags) {
        return new ImageStore(Map.copyOf(images), Map.copyOf(tags));
    }

    Map<String, ImageEvent.ImageAdded> mutableImages() {
        return new LinkedHashMap<>(images);
    }

    Map<String, String> mutableTags() {
        return new LinkedHashMap<>(tags);
    }
}
