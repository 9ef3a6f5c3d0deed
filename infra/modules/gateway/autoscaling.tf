# Auto scaling of every service: target tracking on CPU (both ways), and a step policy that adds
# tasks when p99 latency at the load balancer stays above the service's bound (out only; CPU
# tracking brings the count back down). Latency is not a target-tracking metric: it does not
# fall in proportion as tasks are added, the way CPU per task does.

resource "aws_appautoscaling_target" "service" {
  for_each = var.services

  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.this[each.key].name}"
  min_capacity       = each.value.min_tasks
  max_capacity       = each.value.max_tasks
}

resource "aws_appautoscaling_policy" "cpu" {
  for_each = var.services

  name               = "${var.name}-${each.key}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.service[each.key].service_namespace
  scalable_dimension = aws_appautoscaling_target.service[each.key].scalable_dimension
  resource_id        = aws_appautoscaling_target.service[each.key].resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = each.value.target_cpu_percent
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "latency" {
  for_each = var.services

  name               = "${var.name}-${each.key}-p99"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.service[each.key].service_namespace
  scalable_dimension = aws_appautoscaling_target.service[each.key].scalable_dimension
  resource_id        = aws_appautoscaling_target.service[each.key].resource_id

  step_scaling_policy_configuration {
    adjustment_type          = "PercentChangeInCapacity"
    min_adjustment_magnitude = 1
    cooldown                 = 120
    metric_aggregation_type  = "Maximum"

    # Up to twice the bound: +25 % tasks; beyond it: +50 %.
    step_adjustment {
      metric_interval_lower_bound = 0
      metric_interval_upper_bound = each.value.p99_latency_seconds
      scaling_adjustment          = 25
    }

    step_adjustment {
      metric_interval_lower_bound = each.value.p99_latency_seconds
      scaling_adjustment          = 50
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "latency" {
  for_each = var.services

  alarm_name          = "${var.name}-${each.key}-p99-latency-scale-out"
  alarm_description   = "${each.key}: p99 response time at the load balancer above ${each.value.p99_latency_seconds}s for 3 minutes; adds tasks"
  namespace           = "AWS/ApplicationELB"
  metric_name         = "TargetResponseTime"
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 3
  threshold           = each.value.p99_latency_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_appautoscaling_policy.latency[each.key].arn]

  dimensions = {
    LoadBalancer = each.value.public ? aws_lb.public.arn_suffix : aws_lb.internal.arn_suffix
    TargetGroup  = aws_lb_target_group.service[each.key].arn_suffix
  }

  tags = var.tags
}
