-- What container-service knows of images, from berth.images.events (not from its own log: replay leaves it alone).
create table image_info (
    tenant       text not null,
    image_id     text not null,
    -- the image config fields that matter to a container (Docker's names), a JSON object
    config_json  text not null default '{}',
    -- [{digest, diffId, size, mediaType, unpackedSize}], a JSON array
    layers_json  text not null default '[]',
    primary key (tenant, image_id)
);

-- Familiar references (busybox:latest, 127.0.0.1:5000/bb:1) of a tenant's images.
create table image_ref (
    tenant    text not null,
    reference text not null,
    image_id  text not null,
    primary key (tenant, reference)
);

-- The resolved spec of each container and its creation time to the nanosecond, for inspect.
alter table container_view add column spec_json text not null default '{}';
alter table container_view add column created text not null default '';
