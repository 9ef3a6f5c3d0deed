# The session store and the shared caches on ElastiCache for Redis OSS, cluster mode enabled:
# shards × replicas over the data subnets of every zone, automatic failover, Multi-AZ,
# encryption at rest (our KMS key) and in transit (required), RBAC users instead of the
# open default user, daily snapshots, slow and engine logs, and auto scaling of shards on CPU
# and memory.
#
# Non-obvious: Terraform must not fight auto scaling, so the shard and replica counts are only
# creation values (ignore_changes); and the default user is replaced by one that is switched
# off, because ElastiCache RBAC requires a user named `default` in every user group.

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  resource_id = "replication-group/${aws_elasticache_replication_group.this.id}"
  app_user    = "${var.name}-app"
}

resource "aws_kms_key" "this" {
  description             = "${var.name}: ElastiCache data at rest and its logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

data "aws_iam_policy_document" "key" {
  # checkov:skip=CKV_AWS_109:A key policy: "*" is this key, and the account-root statement is what keeps the key manageable at all (AWS's default key policy).
  # checkov:skip=CKV_AWS_111:A key policy: "*" is this key, and the account-root statement is what keeps the key manageable at all (AWS's default key policy).
  # checkov:skip=CKV_AWS_356:A key policy: "*" is this key, and the account-root statement is what keeps the key manageable at all (AWS's default key policy).
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsUsesIt"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:aws:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:/${var.name}/*"]
    }
  }
}

resource "aws_elasticache_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "this" {
  name        = "${var.name}-redis"
  description = "Redis cluster: accepts TLS connections on 6379 from the polygate services only"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  for_each = toset(var.client_security_group_ids)

  security_group_id            = aws_security_group.this.id
  description                  = "Redis from a polygate service"
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
}

resource "aws_elasticache_parameter_group" "this" {
  name        = "${var.name}-redis7-cluster"
  family      = "redis7"
  description = "polygate: cluster mode, eviction by shortest TTL"

  parameter {
    name  = "cluster-enabled"
    value = "yes"
  }

  parameter {
    name  = "maxmemory-policy"
    value = var.maxmemory_policy
  }

  tags = var.tags
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = toset(["slow-log", "engine-log"])

  name              = "/${var.name}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

# --- RBAC: a switched-off `default`, and one application user. ---

resource "aws_elasticache_user" "default_off" {
  user_id       = "${var.name}-default"
  user_name     = "default"
  engine        = "redis"
  access_string = "off -@all"

  authentication_mode {
    type      = "password"
    passwords = [random_password.default_off.result]
  }

  tags = var.tags
}

# Never used by anyone: the switched-off default user still needs a credential.
resource "random_password" "default_off" {
  length  = 64
  special = false
}

resource "random_password" "app" {
  length  = 64
  special = false # goes into a URL.
}

resource "aws_elasticache_user" "app" {
  user_id   = local.app_user
  user_name = local.app_user # IAM authentication requires user_name == user_id.
  engine    = "redis"
  # Data, scripts (every session operation is one Lua script) and cluster topology; not the
  # administrative commands (@dangerous: FLUSHALL, KEYS, CONFIG, DEBUG, ...), except INFO, which
  # the session store's health monitor reads on every node (polygate_session_redis_*).
  access_string = "on ~* +@all -@dangerous +info"

  authentication_mode {
    type      = var.auth_mode
    passwords = var.auth_mode == "password" ? [random_password.app.result] : null
  }

  tags = var.tags
}

resource "aws_elasticache_user_group" "this" {
  user_group_id = var.name
  engine        = "redis"
  user_ids      = [aws_elasticache_user.default_off.user_id, aws_elasticache_user.app.user_id]
  tags          = var.tags
}

# --- The cluster. ---

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.name
  description          = "polygate sessions, rate limits and caches"

  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  port                 = 6379
  parameter_group_name = aws_elasticache_parameter_group.this.name
  subnet_group_name    = aws_elasticache_subnet_group.this.name
  security_group_ids   = [aws_security_group.this.id]

  cluster_mode               = "enabled"
  num_node_groups            = var.shards
  replicas_per_node_group    = var.replicas_per_shard
  automatic_failover_enabled = true
  multi_az_enabled           = true

  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.this.arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  user_group_ids             = [aws_elasticache_user_group.this.user_group_id]

  snapshot_retention_limit   = var.snapshot_retention_days
  snapshot_window            = var.snapshot_window
  final_snapshot_identifier  = "${var.name}-final"
  maintenance_window         = var.maintenance_window
  auto_minor_version_upgrade = true
  apply_immediately          = false
  notification_topic_arn     = var.notification_topic_arn

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.this["slow-log"].name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.this["engine-log"].name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "engine-log"
  }

  tags = var.tags

  lifecycle {
    # Auto scaling owns the counts after creation.
    ignore_changes = [num_node_groups, replicas_per_node_group]

    precondition {
      condition     = var.shards_min <= var.shards && var.shards <= var.shards_max
      error_message = "shards must lie between shards_min and shards_max."
    }

    precondition {
      condition     = var.replicas_per_shard <= var.replicas_max
      error_message = "replicas_per_shard must not exceed replicas_max."
    }
  }
}

# --- Auto scaling: shards on primary CPU and on memory, replicas on replica CPU. ---

resource "aws_appautoscaling_target" "shards" {
  service_namespace  = "elasticache"
  scalable_dimension = "elasticache:replication-group:NodeGroups"
  resource_id        = local.resource_id
  min_capacity       = var.shards_min
  max_capacity       = var.shards_max
}

resource "aws_appautoscaling_policy" "shards_cpu" {
  name               = "${var.name}-shards-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.shards.service_namespace
  scalable_dimension = aws_appautoscaling_target.shards.scalable_dimension
  resource_id        = aws_appautoscaling_target.shards.resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.target_cpu_percent
    disable_scale_in   = false
    scale_in_cooldown  = 900 # resharding moves slots; do not flap.
    scale_out_cooldown = 300

    predefined_metric_specification {
      predefined_metric_type = "ElastiCachePrimaryEngineCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "shards_memory" {
  name               = "${var.name}-shards-memory"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.shards.service_namespace
  scalable_dimension = aws_appautoscaling_target.shards.scalable_dimension
  resource_id        = aws_appautoscaling_target.shards.resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.target_memory_percent
    disable_scale_in   = true # memory falls slowly as TTLs expire; scaling in on it would evict sessions.
    scale_out_cooldown = 300

    predefined_metric_specification {
      predefined_metric_type = "ElastiCacheDatabaseMemoryUsageCountedForEvictPercentage"
    }
  }
}

resource "aws_appautoscaling_target" "replicas" {
  service_namespace  = "elasticache"
  scalable_dimension = "elasticache:replication-group:Replicas"
  resource_id        = local.resource_id
  min_capacity       = var.replicas_per_shard
  max_capacity       = var.replicas_max

  depends_on = [aws_appautoscaling_target.shards]
}

resource "aws_appautoscaling_policy" "replicas_cpu" {
  name               = "${var.name}-replicas-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.replicas.service_namespace
  scalable_dimension = aws_appautoscaling_target.replicas.scalable_dimension
  resource_id        = aws_appautoscaling_target.replicas.resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.target_cpu_percent
    scale_in_cooldown  = 900
    scale_out_cooldown = 300

    predefined_metric_specification {
      predefined_metric_type = "ElastiCacheReplicaEngineCPUUtilization"
    }
  }
}
