-- Read model of the network aggregate (see NetworkProjection); rebuilt from the event log on replay.
create table network_view (
    id          text primary key,
    tenant      text        not null,
    name        text        not null,
    driver      text        not null,
    predefined  boolean     not null,
    created_at  timestamptz not null,
    -- the dev.berth.network.created.v1 payload, from which the API renders the network
    data_json   text        not null,
    -- names are unique per tenant: of two concurrent creates of one name only one can commit
    unique (tenant, name)
);

-- Each tenant has its own address space (as if it had its own Docker daemon), in which no two subnets may overlap.
-- The exclusion constraint makes that hold under concurrent creates; the command that loses is run again with a
-- fresh snapshot. btree_gist (a trusted extension: the database owner may create it) gives "tenant with =".
create extension if not exists btree_gist;
create table network_subnet (
    network_id text not null references network_view (id) on delete cascade,
    tenant     text not null,
    subnet     cidr not null,
    exclude using gist (tenant with =, subnet inet_ops with &&)
);
create index network_subnet_network on network_subnet (network_id);
