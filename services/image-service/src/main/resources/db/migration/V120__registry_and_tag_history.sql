-- Blobs a tenant uploaded through the registry API (/v2/) that no manifest of its images references yet. A client
-- pushes layers and config first and checks them with HEAD before it pushes the manifest, so the tenant must see
-- them in between. The row goes when a manifest push makes them part of an image (image_blob then covers them).
-- Not an event-sourced read model: like the blob files themselves it is content bookkeeping.
create table pushed_blob (
    tenant    text        not null,
    digest    text        not null,
    pushed_at timestamptz not null default now(),
    primary key (tenant, digest)
);
create index pushed_blob_digest on pushed_blob (digest);

-- Every move of every tag, from the image events (imported/loaded/pushed with repoTags, tagged, untagged). Filled by
-- TagHistoryProjection, rebuilt on replay: GET /_berth/tags/{ref}/history lists it, rollback reads it.
create table tag_history (
    position   bigint      not null,   -- the event's global position (order of the moves)
    tenant     text        not null,
    reference  text        not null,   -- familiar repository:tag
    image_id   text        not null,
    action     text        not null,   -- tagged | untagged
    event_type text        not null,   -- the CloudEvents type of the event that moved it
    event_id   uuid        not null,
    at         timestamptz not null,
    primary key (position, reference)
);
create index tag_history_ref on tag_history (tenant, reference, position);
