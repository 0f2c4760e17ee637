-- Read model of the container aggregate: one row per container, what GET /containers/json lists. Filled by
-- ContainerProjection from the container events; rebuilt from the event log on replay.
create table container_view (
    id           text primary key,
    tenant       text        not null,
    name         text        not null,
    image        text        not null,
    image_id     text        not null,
    command      text        not null default '',
    created_at   timestamptz not null,
    -- Docker's state name: created, running, paused, restarting, removing, exited, dead
    state        text        not null,
    status       text        not null default '',
    labels_json  text        not null default '{}',
    -- the remaining list fields (Ports, Mounts, NetworkSettings, HostConfig), as Docker renders them
    summary_json text        not null default '{}',
    unique (tenant, name)
);
