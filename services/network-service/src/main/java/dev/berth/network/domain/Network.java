package dev.berth.network.domain;

import dev.berth.network.domain.NetworkEvent.NetworkCreated;

/** The state of one network aggregate: its creation fact while it exists, null before and after. */
public record Network(NetworkCreated created) {

    public static final Network NONE = new Network(null);

    public boolean exists() {
        return created != null;
    }
}
