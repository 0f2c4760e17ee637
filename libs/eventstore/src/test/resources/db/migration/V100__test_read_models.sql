-- Read models of the test service (a service's own migrations start at V100).
CREATE TABLE test_volumes (
    id       text PRIMARY KEY,
    tenant   text,
    name     text   NOT NULL,
    labels   jsonb  NOT NULL,
    version  bigint NOT NULL
);

CREATE TABLE test_tenant_counts (
    tenant  text PRIMARY KEY,
    volumes integer NOT NULL
);

-- What a consumer did; deliberately without a unique key, so a double application would show.
CREATE TABLE test_consumer_effects (
    seq          bigserial PRIMARY KEY,
    event_id     text   NOT NULL,
    aggregate_id text   NOT NULL,
    version      bigint NOT NULL
);

-- What the @Incoming consumer did, again without a unique key.
CREATE TABLE test_incoming_effects (
    seq          bigserial PRIMARY KEY,
    event_id     text   NOT NULL,
    source       text   NOT NULL,
    aggregate_id text   NOT NULL,
    version      bigint NOT NULL
);

-- Written (and rolled back) only to use up transaction ids.
CREATE TABLE test_xid_burn (i integer);
