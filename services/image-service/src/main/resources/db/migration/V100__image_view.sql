-- Read model of the image aggregate: one row per image, what GET /images/json lists. Filled by ImageProjection from
-- the image events; rebuilt from the event log on replay.
create table image_view (
    id          text primary key,
    tenant      text        not null,
    -- repository:tag references, as a JSON array
    repo_tags   text        not null default '[]',
    -- repository@digest references, as a JSON array
    repo_digests text       not null default '[]',
    parent_id   text        not null default '',
    created_at  timestamptz not null,
    size        bigint      not null default 0,
    labels_json text        not null default '{}'
);
create index image_view_tenant on image_view (tenant);
