-- Leases on blobs: an operation that writes or reuses blobs before the event that references them commits (pull,
-- build, load, import, registry pushes) holds a lease on their digests until that event is committed or it fails.
-- The collector keeps every blob a live lease names. Rows are written and read under the advisory lock the collector
-- takes exclusively (see dev.berth.image.gc.Leases): a holder checks whether a blob exists only after its lease has
-- committed, so a blob the collector deleted is written again, never assumed present.
-- Not an event-sourced read model: content bookkeeping like the blob files themselves.
create table blob_lease (
    holder     uuid        not null,   -- one operation (a build, a pull, a load...) of one image-service process
    digest     text        not null,
    purpose    text        not null,   -- what holds it (build, pull, load...), for operators reading the table
    expires_at timestamptz not null,   -- renewed while the holder lives; a crashed holder's lease lapses
    primary key (holder, digest)
);
create index blob_lease_digest on blob_lease (digest);
