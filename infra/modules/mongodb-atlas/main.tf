# The catalog's MongoDB on Atlas: a sharded cluster on AWS in the services' region, each shard a
# three-member replica set, compute auto-scaling per shard, continuous cloud backup (point-in-time
# restore) with an hourly/daily/weekly/monthly snapshot schedule, reachable only through an AWS
# PrivateLink endpoint in our VPC, TLS 1.2 or newer, and a database user that is the catalog
# service's IAM role (MONGODB-AWS authentication: there is no password to leak or rotate).
#
# Non-obvious: Atlas creates the shards but never shards a collection; `sh.shardCollection` is a
# database command, so the shard key is an input here and an output command run once after the
# cluster exists (RUNBOOK.md, "Shard the catalog collections").

resource "mongodbatlas_advanced_cluster" "this" {
  project_id   = var.project_id
  name         = var.name
  cluster_type = "SHARDED"

  mongo_db_major_version         = var.mongodb_major_version
  backup_enabled                 = true
  pit_enabled                    = true
  termination_protection_enabled = var.termination_protection
  redact_client_log_data         = true
  # Report the sizes Atlas scaled to as effective_* fields instead of fighting them in the plan.
  use_effective_fields = true

  replication_specs = [
    for i in range(var.shards) : {
      region_configs = [
        {
          provider_name = "AWS"
          region_name   = var.atlas_region
          priority      = 7
          electable_specs = {
            instance_size = var.instance_size
            node_count    = 3
          }
          auto_scaling = {
            disk_gb_enabled            = true
            compute_enabled            = true
            compute_scale_down_enabled = var.autoscaling.scale_down
            compute_min_instance_size  = var.autoscaling.min_instance_size
            compute_max_instance_size  = var.autoscaling.max_instance_size
          }
        }
      ]
    }
  ]

  advanced_configuration = {
    minimum_enabled_tls_protocol = "TLS1_2"
    javascript_enabled           = false # no server-side JavaScript: nothing of ours uses $where or mapReduce.
  }
}

resource "mongodbatlas_cloud_backup_schedule" "this" {
  project_id   = mongodbatlas_advanced_cluster.this.project_id
  cluster_name = mongodbatlas_advanced_cluster.this.name

  reference_hour_of_day    = var.backup.reference_hour_utc
  reference_minute_of_hour = 0
  restore_window_days      = var.backup.restore_window_days

  policy_item_hourly {
    frequency_interval = var.backup.hourly_every_hours
    retention_unit     = "days"
    retention_value    = var.backup.hourly_keep_days
  }

  policy_item_daily {
    frequency_interval = 1
    retention_unit     = "days"
    retention_value    = var.backup.daily_keep_days
  }

  policy_item_weekly {
    frequency_interval = 7 # Sundays
    retention_unit     = "weeks"
    retention_value    = var.backup.weekly_keep_weeks
  }

  policy_item_monthly {
    frequency_interval = 40 # the last day of the month
    retention_unit     = "months"
    retention_value    = var.backup.monthly_keep_months
  }
}

# --- PrivateLink: the cluster has no route from the internet; tasks reach it inside the VPC. ---

resource "mongodbatlas_privatelink_endpoint" "this" {
  project_id    = var.project_id
  provider_name = "AWS"
  region        = var.aws_region
}

resource "aws_security_group" "endpoint" {
  name        = "${var.name}-atlas-endpoint"
  description = "Atlas PrivateLink endpoint: accepts the catalog service on the ports Atlas maps its nodes to"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "endpoint" {
  # checkov:skip=CKV_AWS_25:The source is the catalog service's security group, not an address range; Atlas maps each node to its own port in 1024-65535 behind the endpoint.
  for_each = toset(var.client_security_group_ids)

  security_group_id            = aws_security_group.endpoint.id
  description                  = "MongoDB from the catalog service (Atlas PrivateLink uses ports 1024-65535)"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 1024
  to_port                      = 65535
}

resource "aws_vpc_endpoint" "atlas" {
  vpc_id             = var.vpc_id
  service_name       = mongodbatlas_privatelink_endpoint.this.endpoint_service_name
  vpc_endpoint_type  = "Interface"
  subnet_ids         = var.subnet_ids
  security_group_ids = [aws_security_group.endpoint.id]
  tags               = merge(var.tags, { Name = "${var.name}-atlas" })
}

resource "mongodbatlas_privatelink_endpoint_service" "this" {
  project_id          = mongodbatlas_privatelink_endpoint.this.project_id
  private_link_id     = mongodbatlas_privatelink_endpoint.this.private_link_id
  endpoint_service_id = aws_vpc_endpoint.atlas.id
  provider_name       = "AWS"
}

# --- The catalog service's identity: its task role, no password. ---

resource "mongodbatlas_database_user" "catalog" {
  project_id         = var.project_id
  username           = var.app_role_arn
  auth_database_name = "$external"
  aws_iam_type       = "ROLE"

  roles {
    role_name     = "readWrite"
    database_name = var.database_name
  }

  scopes {
    name = mongodbatlas_advanced_cluster.this.name
    type = "CLUSTER"
  }
}

locals {
  private_endpoints = coalesce(mongodbatlas_advanced_cluster.this.connection_strings.private_endpoint, [])
  private_srv = [
    for pe in local.private_endpoints : pe.srv_shard_optimized_connection_string
    if contains([for e in pe.endpoints : e.endpoint_id], aws_vpc_endpoint.atlas.id)
  ]
}
