output "cluster_id" {
  description = "Qdrant Cloud cluster id (backups, the runbook's commands)."
  value       = qdrant-cloud_accounts_cluster.this.id
}

output "url" {
  description = "HTTPS endpoint of the cluster (REST on 6333, gRPC on 6334)."
  value       = qdrant-cloud_accounts_cluster.this.url
}

output "api_key" {
  description = "The search service's database API key (manage rights on this cluster, which holds only the search collections). Sensitive."
  value       = qdrant-cloud_accounts_database_api_key_v2.search.key
  sensitive   = true
}
