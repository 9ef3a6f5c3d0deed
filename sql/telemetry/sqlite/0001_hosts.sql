-- The host registry (TSBS devops tags). `id` is what readings store; `hostname` is what agents
-- and other subgraphs know. `team` is an org department's slug.
CREATE TABLE hosts (
    id INTEGER PRIMARY KEY,
    hostname TEXT NOT NULL UNIQUE,
    region TEXT NOT NULL,
    datacenter TEXT NOT NULL,
    rack TEXT NOT NULL,
    os TEXT NOT NULL,
    arch TEXT NOT NULL,
    team TEXT NOT NULL,
    service TEXT NOT NULL,
    service_version TEXT NOT NULL,
    environment TEXT NOT NULL
);

-- Department.hosts: every host of a team, in id order.
CREATE INDEX hosts_team_idx ON hosts (team, id);
