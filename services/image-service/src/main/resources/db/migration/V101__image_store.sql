-- The image read models, filled by ImageProjection from the image events and rebuilt from the log on replay.
-- image_view is recreated: one image id may exist in several tenants, so a row is keyed by tenant and id.
drop table image_view;
create table image_view (
    view_key        text primary key,         -- <tenant>/<image id>
    tenant          text        not null,
    id              text        not null,     -- sha256:<hex> of the image config
    repo_tags       text        not null default '[]',   -- JSON array of familiar repository:tag references
    repo_digests    text        not null default '[]',
    parent_id       text        not null default '',
    created_at      timestamptz not null,
    size            bigint      not null default 0,
    labels_json     text        not null default '{}',
    comment         text        not null default '',
    architecture    text        not null,
    os              text        not null,
    manifest_digest text        not null,
    layers_json     text        not null,     -- JSON array of {digest, diffId, size, mediaType, unpackedSize}
    runtime_json    text        not null,     -- what containers take from the config (the event's config field)
    last_tag_time   timestamptz
);
create index image_view_tenant on image_view (tenant);

-- Which blobs (config, manifest, layers) each image of a tenant references: the registry API serves a tenant only
-- the blobs of its own images, and a blob file is deleted when no row of any tenant names it any more.
create table image_blob (
    tenant   text not null,
    image_id text not null,
    digest   text not null,
    primary key (tenant, image_id, digest)
);
create index image_blob_digest on image_blob (digest);

-- Containers that use an image, by tenant. Empty until container-service publishes container events; rmi and prune
-- already consult it, so removal rules (409 while in use) start to apply the day a consumer fills it.
create table image_user (
    tenant       text    not null,
    container_id text    not null,
    image_id     text    not null,
    running      boolean not null default false,
    primary key (tenant, container_id)
);
create index image_user_image on image_user (tenant, image_id);
