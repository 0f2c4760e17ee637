-- Event store tables shared by every Berth service. Versions V1..V99 of this location belong to the event store;
-- a service's own migrations live in db/migration from V100 on.

-- The append-only event log, which is also the outbox the relay publishes from.
CREATE TABLE events (
    position       bigserial   PRIMARY KEY,
    id             uuid        NOT NULL UNIQUE,
    aggregate_type text        NOT NULL,
    aggregate_id   text        NOT NULL,
    version        bigint      NOT NULL CHECK (version > 0),
    type           text        NOT NULL,
    tenant         text,
    data           jsonb       NOT NULL,
    correlation_id uuid,
    causation_id   uuid,
    time           timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- The appending transaction: the relay reads only below the oldest running transaction, so a position taken
    -- by a transaction that commits late is never skipped (see docs/adr/0002-relay-cursor.md).
    tx_id          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT events_aggregate_version UNIQUE (aggregate_id, version)
);

CREATE INDEX events_tx_position ON events (tx_id, position);

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only: % refused', TG_OP;
END;
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();

-- Where each relay stands: the last (transaction, position) whose publication Kafka acknowledged.
CREATE TABLE outbox_cursor (
    relay      text        PRIMARY KEY,
    tx_id      xid8        NOT NULL DEFAULT '0',
    position   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Messages a consumer has already applied; inserted in the same transaction as the consumer's effect.
CREATE TABLE processed_messages (
    consumer     text        NOT NULL,
    message_id   text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer, message_id)
);
