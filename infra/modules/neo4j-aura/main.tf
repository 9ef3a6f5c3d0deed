# The org subgraph's graph on Neo4j Aura, through the Neo4j Labs Terraform provider
# (`neo4j-labs/neo4jaura`, a beta: pinned exactly). The provider covers instances, secondaries
# and on-demand snapshots; scheduled snapshots are Aura's own, by tier, and cannot be switched
# off, which is why the free tier is refused.
#
# Non-obvious: Aura exposes Bolt over TLS on a public endpoint (`neo4j+s://`); private endpoints
# exist only for Virtual Dedicated Cloud and are set up with Neo4j, outside this provider. The
# connection leaves through our NAT gateways, encrypted, to an instance in the same AWS region.

resource "neo4jaura_instance" "this" {
  name           = var.name
  project_id     = var.project_id
  cloud_provider = var.cloud_provider
  region         = var.region
  type           = var.type
  memory         = var.memory
  storage        = var.storage
  version        = "5"

  secondaries_count = var.secondaries > 0 ? var.secondaries : null

  lifecycle {
    precondition {
      condition     = var.secondaries == 0 || var.type == "enterprise-db"
      error_message = "secondaries need type = enterprise-db (Aura Virtual Dedicated Cloud)."
    }
  }
}

resource "neo4jaura_snapshot" "on_demand" {
  count       = var.take_snapshot_on_apply ? 1 : 0
  instance_id = neo4jaura_instance.this.instance_id
}
