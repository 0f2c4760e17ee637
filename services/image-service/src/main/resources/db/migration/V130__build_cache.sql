-- The build cache: which image a Dockerfile step made from a parent image. Not an event-sourced read model: it is a
-- lookup of reusable results, and losing it only costs a rebuild. A row is keyed by the tenant, the parent image id
-- ('' for FROM scratch) and the sha256 of the step's cache key (instruction after substitution, plus the content
-- digest of COPY/ADD sources and the build args a RUN sees).
create table build_cache (
    tenant      text        not null,
    parent_id   text        not null,
    step_key    text        not null,
    step        text        not null,
    image_id    text        not null,
    config      text        not null,   -- the step's image config, exactly the bytes whose sha256 is image_id
    layers_json text        not null,   -- JSON array of {digest, diffId, size, mediaType, unpackedSize}
    created_at  timestamptz not null default now(),
    primary key (tenant, parent_id, step_key)
);

-- The layer blobs cached steps hold: blob collection keeps a blob any row here names, so a cached step still has
-- its layers after the images that shared them are removed.
create table build_cache_blob (
    tenant   text not null,
    image_id text not null,
    digest   text not null,
    primary key (tenant, image_id, digest)
);
create index build_cache_blob_digest on build_cache_blob (digest);
