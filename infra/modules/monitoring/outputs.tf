output "alert_topic_arn" {
  description = "SNS topic every AWS alarm and the Prometheus alert manager notify (ElastiCache events too)."
  value       = aws_sns_topic.alerts.arn
}

output "prometheus_workspace_arn" {
  description = "Managed Prometheus workspace the tasks write to."
  value       = aws_prometheus_workspace.this.arn
}

output "prometheus_remote_write_url" {
  description = "Remote-write URL of the workspace."
  value       = "${aws_prometheus_workspace.this.prometheus_endpoint}api/v1/remote_write"
}

output "prometheus_query_url" {
  description = "Query endpoint for Grafana (SigV4), where infra/monitoring/dashboards/gateway.json is imported."
  value       = aws_prometheus_workspace.this.prometheus_endpoint
}

output "alarm_counts" {
  description = "How many alarms watch each store and the services (tests and the README read it)."
  value = {
    elasticache = length(aws_cloudwatch_metric_alarm.redis)
    cloudsql    = length(google_monitoring_alert_policy.cloudsql) + 1
    atlas       = length(mongodbatlas_alert_configuration.metric) + length(mongodbatlas_alert_configuration.event) + 1
    services    = 1 + length(aws_cloudwatch_metric_alarm.unhealthy_targets) + length(aws_cloudwatch_metric_alarm.running_tasks) + length(aws_cloudwatch_metric_alarm.vpn_tunnels)
    prometheus  = length(aws_prometheus_rule_group_namespace.this)
  }
}
