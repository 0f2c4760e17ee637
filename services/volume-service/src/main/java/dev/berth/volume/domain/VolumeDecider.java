package dev.berth.volume.domain;

import dev.berth.events.Decider;
import dev.berth.events.DomainException;
import dev.berth.volume.domain.VolumeCommand.CreateVolume;
import dev.berth.volume.domain.VolumeCommand.RemoveVolume;
import dev.berth.volume.domain.VolumeEvent.VolumeCreated;
import dev.berth.volume.domain.VolumeEvent.VolumeRemoved;

import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The volume aggregate. One aggregate per (tenant, name): creating a name that exists is not an error but yields no
 * event, which makes concurrent creates of one name converge on a single volume.
 */
public final class VolumeDecider implements Decider<VolumeCommand, Volume, VolumeEvent> {

    public static final String LOCAL = "local";
    /** Root of the default tenant's volumes on a node; the node agent creates {@code <root>/<name>/_data} on first use. */
    public static final String VOLUMES_ROOT = "/var/lib/berth/volumes";
    /** Root under which every other tenant has its own {@code <tenant>/volumes} tree, so names never collide on disk. */
    public static final String TENANTS_ROOT = "/var/lib/berth/tenants";
    public static final String DEFAULT_TENANT = "default";

    // Docker's local driver rule (volume/local: "[a-zA-Z0-9][a-zA-Z0-9_.-]"), at least two characters.
    private static final Pattern VALID_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]+");
    // The options Docker's local driver understands; it refuses any other key.
    private static final Set<String> LOCAL_OPTIONS = Set.of("type", "device", "o", "size");

    @Override
    public Volume initialState() {
        return Volume.NONE;
    }

    @Override
    public List<VolumeEvent> decide(VolumeCommand command, Volume state) {
        if (command instanceof CreateVolume c) {
            return create(c, state);
        }
        return remove((RemoveVolume) command, state);
    }

    private List<VolumeEvent> create(CreateVolume c, Volume state) {
        String driver = c.driver() == null || c.driver().isEmpty() ? LOCAL : c.driver();
        validateName(c.name());
        if (!LOCAL.equals(driver)) {
            throw DomainException.badRequest("create " + c.name() + ": volume driver \"" + driver
                    + "\" is not supported: the only driver is \"local\"");
        }
        if (c.options() != null) {
            for (String key : new TreeMap<>(c.options()).keySet()) {
                if (!LOCAL_OPTIONS.contains(key)) {
                    throw DomainException.badRequest("create " + c.name() + ": invalid option: \"" + key + "\"");
                }
            }
        }
        if (state.exists()) {
            return List.of();
        }
        Map<String, String> labels = c.labels() == null ? Map.of() : Map.copyOf(c.labels());
        Map<String, String> options = c.options() == null ? null : Map.copyOf(c.options());
        return List.of(new VolumeCreated(c.name(), LOCAL, c.mountpoint(), labels, options,
                c.now().truncatedTo(ChronoUnit.SECONDS)));
    }

    private List<VolumeEvent> remove(RemoveVolume r, Volume state) {
        if (!state.exists()) {
            if (r.force()) {
                return List.of();
            }
            throw DomainException.notFound("get " + r.name() + ": no such volume");
        }
        return List.of(new VolumeRemoved(r.name()));
    }

    @Override
    public Volume evolve(Volume state, VolumeEvent event) {
        if (event instanceof VolumeCreated c) {
            return new Volume(true, c.name(), c.driver(), c.mountpoint(),
                    c.labels() == null ? Map.of() : c.labels(), c.options(), c.createdAt());
        }
        return Volume.NONE;
    }

    /**
     * Where a volume's data lives on a node: {@code /var/lib/berth/volumes/<name>/_data} for the default tenant (the
     * layout Docker users know), {@code /var/lib/berth/tenants/<tenant>/volumes/<name>/_data} for any other, so two
     * tenants' volumes of one name never share a directory and removing one never touches another's tree.
     */
    public static String mountpoint(String tenant, String name) {
        if (DEFAULT_TENANT.equals(tenant)) {
            return VOLUMES_ROOT + "/" + name + "/_data";
        }
        return TENANTS_ROOT + "/" + tenant + "/volumes/" + name + "/_data";
    }

    /**
     * Checks a volume name as Docker's local driver does.
     *
     * @throws DomainException 400 with Docker's wording
     */
    public static void validateName(String name) {
        if (name == null || name.length() < 2) {
            throw DomainException.badRequest("create " + name
                    + ": volume name is too short, names should be at least two alphanumeric characters");
        }
        if (!VALID_NAME.matcher(name).matches()) {
            throw DomainException.badRequest("create " + name + ": \"" + name
                    + "\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed."
                    + " If you intended to pass a host directory, use absolute path");
        }
    }
}
