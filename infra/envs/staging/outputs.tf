output "api_load_balancer" {
  description = "DNS name to point the API host name at."
  value       = module.services.public_lb_dns_name
}

output "image_repositories" {
  description = "Where CI pushes each service's image."
  value       = module.services.repository_urls
}

output "subgraph_urls" {
  description = "The gateway's view of each subgraph."
  value       = module.services.subgraph_urls
}

output "catalog_shard_commands" {
  description = "mongosh commands that shard the catalog collections (run once; RUNBOOK.md)."
  value       = module.atlas.shard_collection_commands
}

output "cloudsql_instances" {
  description = "Cloud SQL instances by commerce database."
  value       = module.cloudsql.instances
}

output "aura_instance_id" {
  description = "Aura instance of the org subgraph."
  value       = module.aura.instance_id
}

output "timescale_service_id" {
  description = "Timescale service of the telemetry subgraph."
  value       = module.timescale.service_id
}

output "qdrant_cluster_id" {
  description = "Qdrant Cloud cluster of the search subgraph."
  value       = module.qdrant.cluster_id
}

output "prometheus_query_url" {
  description = "Managed Prometheus query endpoint (Grafana data source for the gateway dashboard)."
  value       = module.monitoring.prometheus_query_url
}

output "alarm_counts" {
  description = "Alarms per store and for the services."
  value       = module.monitoring.alarm_counts
}

output "ops" {
  description = "What RUNBOOK.md's one-off tasks need: cluster, subnets, each service's security group, the operator task families."
  value = {
    cluster          = module.services.cluster_name
    subnets          = module.services.private_subnet_ids
    security_groups  = module.services.service_security_group_ids
    task_definitions = module.services.ops_task_definitions
  }
}
