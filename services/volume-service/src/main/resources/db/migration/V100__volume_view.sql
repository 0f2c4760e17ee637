-- Read model of the volume aggregate (see VolumeProjection); rebuilt from the event log on replay.
create table volume_view (
    id           text primary key,
    tenant       text        not null,
    name         text        not null,
    driver       text        not null,
    mountpoint   text        not null,
    created_at   timestamptz not null,
    labels_json  text        not null,
    options_json text,
    unique (tenant, name)
);
