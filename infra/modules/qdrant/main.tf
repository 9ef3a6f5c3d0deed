# The search subgraph's vectors on Qdrant Cloud, through the official `qdrant/qdrant-cloud`
# provider: a multi-node cluster in the services' region, new collections replicated twice by
# default, a backup schedule with retention, an IP allow-list of our NAT addresses, and a
# database API key limited to the search collection.
#
# Non-obvious: the node package is looked up by CPU and RAM instead of a hard-coded package id,
# because ids differ per cloud and region; a size that does not exist fails the plan here
# (precondition) rather than at apply.

data "qdrant-cloud_booking_packages" "this" {
  cloud_provider = var.cloud_provider
  cloud_region   = var.cloud_region
}

locals {
  packages = [
    for p in data.qdrant-cloud_booking_packages.this.packages : p
    if p.resource_configuration[0].cpu == var.node_cpu && p.resource_configuration[0].ram == var.node_ram
  ]
}

resource "qdrant-cloud_accounts_cluster" "this" {
  name                      = var.name
  cloud_provider            = var.cloud_provider
  cloud_region              = var.cloud_region
  delete_backups_on_destroy = false

  configuration {
    number_of_nodes          = var.nodes
    allowed_ip_source_ranges = var.allowed_source_cidrs
    restart_policy           = "CLUSTER_CONFIGURATION_RESTART_POLICY_ROLLING"
    rebalance_strategy       = "CLUSTER_CONFIGURATION_REBALANCE_STRATEGY_BY_COUNT_AND_SIZE"

    node_configuration {
      package_id = local.packages[0].id
    }

    cluster_storage_configuration {
      storage_tier_type = "STORAGE_TIER_TYPE_BALANCED"
    }

    database_configuration {
      collection {
        replication_factor       = var.replication_factor
        write_consistency_factor = 1
      }
    }
  }

  lifecycle {
    precondition {
      condition     = length(local.packages) > 0
      error_message = "no Qdrant Cloud package with ${var.node_cpu} CPU and ${var.node_ram} RAM in ${var.cloud_provider}/${var.cloud_region}."
    }

    precondition {
      condition     = var.replication_factor <= var.nodes
      error_message = "replication_factor cannot exceed the number of nodes (replicas of a shard live on distinct nodes)."
    }
  }
}

resource "qdrant-cloud_accounts_backup_schedule" "this" {
  cluster_id                = qdrant-cloud_accounts_cluster.this.id
  cron_expression           = var.backup_cron
  retention_period          = var.backup_retention
  delete_backups_on_destroy = false
}

resource "qdrant-cloud_accounts_database_api_key_v2" "search" {
  cluster_id = qdrant-cloud_accounts_cluster.this.id
  name       = "${var.name}-search-service"

  # Manage, not read-write on one collection: the search service rebuilds its collection under a
  # new name and swaps an alias to it, which creates collections. The cluster holds
  # nothing but the search collections.
  global_access_rule {
    access_type = "GLOBAL_ACCESS_RULE_ACCESS_TYPE_MANAGE"
  }
}
