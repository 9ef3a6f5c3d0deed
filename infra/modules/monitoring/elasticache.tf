# ElastiCache alarms, per node: engine CPU, memory, evictions, replication lag, connections.

locals {
  redis_nodes = flatten([
    for s in range(1, var.elasticache.shards_max + 1) : [
      for n in range(1, var.elasticache.replicas_max + 2) :
      format("%s-%04d-%03d", var.elasticache.replication_group_id, s, n)
    ]
  ])

  redis_alarms = {
    cpu = {
      metric      = "EngineCPUUtilization"
      statistic   = "Average"
      threshold   = var.thresholds.redis_cpu_percent
      description = "engine CPU above ${var.thresholds.redis_cpu_percent}% for 10 minutes: Redis runs commands on one core; add shards (auto scaling should already be)"
    }
    memory = {
      metric      = "DatabaseMemoryUsageCountedForEvictPercentage"
      statistic   = "Maximum"
      threshold   = var.thresholds.redis_memory_percent
      description = "memory counted for eviction above ${var.thresholds.redis_memory_percent}%: eviction (volatile-ttl) is near; sessions closest to expiry go first"
    }
    evictions = {
      metric      = "Evictions"
      statistic   = "Sum"
      threshold   = 0
      description = "keys evicted: the session design sizes Redis so that eviction never happens in normal operation (evicted sessions sign users out)"
    }
    replication_lag = {
      metric      = "ReplicationLag"
      statistic   = "Maximum"
      threshold   = var.thresholds.redis_replication_lag_s
      description = "a replica is more than ${var.thresholds.redis_replication_lag_s}s behind its primary: a failover now would lose that many seconds of logins and revocations"
    }
    connections = {
      metric      = "CurrConnections"
      statistic   = "Maximum"
      threshold   = var.thresholds.redis_connections
      description = "more than ${var.thresholds.redis_connections} client connections on a node: a connection leak or far more tasks than planned"
    }
  }

  redis_node_alarms = merge([
    for node in local.redis_nodes : {
      for kind, a in local.redis_alarms : "${node}/${kind}" => merge(a, { node = node, kind = kind })
    }
  ]...)
}

resource "aws_cloudwatch_metric_alarm" "redis" {
  for_each = local.redis_node_alarms

  alarm_name          = "${var.name}-redis-${each.value.kind}-${each.value.node}"
  alarm_description   = "Redis ${each.value.node}: ${each.value.description}"
  namespace           = "AWS/ElastiCache"
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  period              = 60
  evaluation_periods  = each.value.kind == "cpu" ? 10 : 5
  datapoints_to_alarm = each.value.kind == "cpu" ? 10 : (each.value.kind == "evictions" ? 1 : 5)
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching" # a node id that does not exist (yet) reports nothing.
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]

  dimensions = {
    CacheClusterId = each.value.node
  }

  tags = var.tags
}
