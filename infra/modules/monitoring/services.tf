# Alarms on the services themselves (load balancers, ECS) and on the VPN to Cloud SQL.

resource "aws_cloudwatch_metric_alarm" "gateway_5xx" {
  alarm_name          = "${var.name}-gateway-5xx"
  alarm_description   = "The public API answered more than ${var.thresholds.gateway_5xx_per_minute} 5xx per minute for 5 minutes (GraphQL errors answer 200; a 5xx is the gateway itself or no healthy task)"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HTTPCode_Target_5XX_Count"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.thresholds.gateway_5xx_per_minute
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]

  dimensions = {
    LoadBalancer = var.ecs.public_lb_arn_suffix
    TargetGroup  = var.ecs.target_groups[var.ecs.gateway_service]
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_targets" {
  for_each = var.ecs.target_groups

  alarm_name          = "${var.name}-${each.key}-unhealthy-targets"
  alarm_description   = "${each.key}: a task failed its load balancer health check for 3 minutes (for a subgraph, /ready: its store is unreachable from that task)"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]

  dimensions = {
    LoadBalancer = each.key == var.ecs.gateway_service ? var.ecs.public_lb_arn_suffix : var.ecs.internal_lb_arn_suffix
    TargetGroup  = each.value
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "running_tasks" {
  for_each = var.ecs.min_tasks

  alarm_name          = "${var.name}-${each.key}-running-tasks"
  alarm_description   = "${each.key}: fewer running tasks than the minimum (${each.value}) for 5 minutes: deployments failing or tasks crashing"
  namespace           = "ECS/ContainerInsights"
  metric_name         = "RunningTaskCount"
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 5
  threshold           = each.value
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]

  dimensions = {
    ClusterName = var.ecs.cluster_name
    ServiceName = each.key
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "vpn_tunnels" {
  for_each = toset(var.vpn_connection_ids)

  alarm_name          = "${var.name}-vpn-${each.value}-tunnel-down"
  alarm_description   = "A tunnel of the VPN to GCP is down (Cloud SQL traffic continues over the others; with all four down commerce fails with STORE_UNAVAILABLE)"
  namespace           = "AWS/VPN"
  metric_name         = "TunnelState"
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]

  dimensions = {
    VpnId = each.value
  }

  tags = var.tags
}
