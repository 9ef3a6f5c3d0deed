# The telemetry subgraph's TimescaleDB on Timescale Cloud (Tiger Data), through the official
# `timescale/timescale` provider: one service with an HA standby, a read replica set, the
# connection pooler, and a private connection to our VPC by peering (no public route is used).
#
# Non-obvious: backups are not a setting. Timescale Cloud takes them by itself (full and
# incremental backups plus continuous WAL archiving) and restores to a point in time by creating
# a new service, a "fork" (RUNBOOK.md); what Terraform controls is that the service is highly
# available and tagged PROD. The licensed features the telemetry design uses where present
# (compression, continuous aggregates, retention policies) are on in Timescale Cloud.

resource "random_password" "this" {
  length  = 40
  special = false # goes into a URL.
}

resource "timescale_vpcs" "this" {
  name        = var.name
  cidr        = var.vpc_cidr
  region_code = var.region
}

resource "timescale_service" "primary" {
  name                      = var.name
  region_code               = var.region
  milli_cpu                 = var.milli_cpu
  memory_gb                 = var.memory_gb
  ha_replicas               = var.ha_replicas
  connection_pooler_enabled = true
  environment_tag           = var.environment_tag
  vpc_id                    = timescale_vpcs.this.id
  password                  = random_password.this.result
}

resource "timescale_service" "read_replica" {
  count = var.read_replica_nodes > 0 ? 1 : 0

  name                = "${var.name}-read"
  read_replica_source = timescale_service.primary.id
  read_replica_nodes  = var.read_replica_nodes
  milli_cpu           = var.milli_cpu
  memory_gb           = var.memory_gb
  vpc_id              = timescale_vpcs.this.id
  # Read replicas take the primary's password; setting it keeps it in state for the URL output.
  password = random_password.this.result
}

# --- Peering: Timescale's VPC requests, ours accepts, both route. ---

resource "timescale_peering_connection" "this" {
  timescale_vpc_id = timescale_vpcs.this.id
  peer_account_id  = var.peer_account_id
  peer_region_code = var.region
  peer_vpc_id      = var.peer_vpc_id
}

resource "aws_vpc_peering_connection_accepter" "timescale" {
  vpc_peering_connection_id = timescale_peering_connection.this.accepter_provisioned_id
  auto_accept               = true
  tags                      = { Name = "${var.name}-timescale", Side = "accepter" }
}

resource "aws_route" "to_timescale" {
  count = length(var.peer_route_table_ids)

  route_table_id            = var.peer_route_table_ids[count.index]
  destination_cidr_block    = var.vpc_cidr
  vpc_peering_connection_id = aws_vpc_peering_connection_accepter.timescale.id
}
