package dev.berth.volume.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.berth.volume.domain.Volume;

import java.time.format.DateTimeFormatter;
import java.util.Map;

/** A volume as the Docker Engine API shows it. */
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonPropertyOrder({"CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"})
public record VolumeJson(@JsonProperty("CreatedAt") String createdAt,
                         @JsonProperty("Driver") String driver,
                         @JsonProperty("Labels") Map<String, String> labels,
                         @JsonProperty("Mountpoint") String mountpoint,
                         @JsonProperty("Name") String name,
                         @JsonProperty("Options") Map<String, String> options,
                         @JsonProperty("Scope") String scope) {

    public static VolumeJson of(Volume v) {
        return new VolumeJson(DateTimeFormatter.ISO_INSTANT.format(v.createdAt()), v.driver(),
                v.labels() == null ? Map.of() : v.labels(), v.mountpoint(), v.name(), v.options(), "local");
    }
}
