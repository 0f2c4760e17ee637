package dev.berth.image.domain;

import java.util.List;
import java.util.Set;

/** What a client asks of a tenant's image store. */
public sealed interface ImageCommand {

    /**
     * Adds an image (or re-tags it if it is already there) and points the given references at it.
     *
     * @param image the image as an {@link ImageEvent.ImageAdded} event would carry it, with empty repoTags
     */
    record AddImage(ImageEvent.ImageAdded image, List<Reference> tags) implements ImageCommand {
    }

    /** Points a reference at an image, taking it from any other image. */
    record TagImage(String imageId, Reference reference) implements ImageCommand {
    }

    /**
     * {@code docker rmi}.
     *
     * @param imageId   the image the name resolved to
     * @param byName    the reference used, or null when the client named the image by id
     * @param given     the name as the client wrote it (error messages)
     * @param users     containers using the image (ids); stopped ones block without {@code force}
     * @param running   the subset of {@code users} that is running; they block even with {@code force}
     */
    record RemoveImage(String imageId, Reference byName, String given, boolean force, Set<String> users,
                       Set<String> running) implements ImageCommand {
    }

    /** Deletes images chosen by a prune, untagging them first; ids already gone are skipped. */
    record DeleteImages(List<String> imageIds) implements ImageCommand {
    }

    /**
     * Records that a registry holds the image as {@code repoDigest} ({@code repository@sha256:...}). Nothing is
     * recorded for an image removed meanwhile (a push or pull does not bring a removed image back).
     */
    record RecordRepoDigest(String imageId, String repoDigest) implements ImageCommand {
    }

    /**
     * Removes one reference and nothing else (a registry tag delete): the image stays, untagged if that was its last
     * reference.
     *
     * @throws dev.berth.events.DomainException 404 when the reference names no image
     */
    record UntagImage(Reference reference) implements ImageCommand {
    }
}
