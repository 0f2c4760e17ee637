-- Lifecycle state of each container, from the node's observations (replay rebuilds these columns too).
alter table container_view add column node_id      text;
alter table container_view add column pid          integer not null default 0;
alter table container_view add column exit_code    integer not null default 0;
alter table container_view add column oom_killed   boolean not null default false;
-- RFC 3339 with nanoseconds as the node reported them; Go's zero time when never started / never finished
alter table container_view add column started_at   text    not null default '0001-01-01T00:00:00Z';
alter table container_view add column finished_at  text    not null default '0001-01-01T00:00:00Z';
alter table container_view add column restart_count integer not null default 0;
alter table container_view add column error        text    not null default '';
-- {ipAddress, prefixLength, gateway, macAddress, ports[{hostIp, hostPort, containerPort, protocol}]} of the last start
alter table container_view add column network_json text;
create index container_view_node on container_view (node_id);

-- The nodes container-service can schedule on, from their heartbeats on berth.nodes.events (not from its own log:
-- replay leaves it alone).
create table node_view (
    node_id   text primary key,
    -- the data plane, host:port
    address   text        not null,
    cpus      integer     not null,
    memory    bigint      not null,
    last_seen timestamptz not null
);

-- Exec instances created through container-service: which container (and tenant) an exec id belongs to, so the
-- gateway can send the exec's start/resize/inspect to the right node. Not event-sourced: Docker forgets exec
-- instances at restart too.
create table exec_instance (
    exec_id      text primary key,
    tenant       text        not null,
    container_id text        not null,
    created_at   timestamptz not null default now()
);
create index exec_instance_container on exec_instance (container_id);
