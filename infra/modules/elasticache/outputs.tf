output "replication_group_id" {
  description = "Replication group id; every node's `CacheClusterId` starts with it."
  value       = aws_elasticache_replication_group.this.id
}

output "replication_group_arn" {
  description = "ARN of the replication group (IAM `elasticache:Connect` resource)."
  value       = aws_elasticache_replication_group.this.arn
}

output "member_clusters" {
  description = "Node ids (`CacheClusterId` dimension of the per-node CloudWatch metrics the alarms watch)."
  value       = aws_elasticache_replication_group.this.member_clusters
}

output "configuration_endpoint" {
  description = "Cluster configuration endpoint: one seed from which clients discover every shard."
  value       = aws_elasticache_replication_group.this.configuration_endpoint_address
}

output "port" {
  description = "Port of every node."
  value       = aws_elasticache_replication_group.this.port
}

output "security_group_id" {
  description = "Security group of the nodes."
  value       = aws_security_group.this.id
}

output "app_user" {
  description = "Name and ARN of the application's RBAC user (IAM `elasticache:Connect` resource in iam mode)."
  value       = { name = aws_elasticache_user.app.user_name, arn = aws_elasticache_user.app.arn }
}

output "url" {
  description = "URL for `[subgraphs.session] store` and the caches, with the application user's credentials (password mode). Sensitive."
  sensitive   = true
  value = var.auth_mode == "password" ? (
    "${var.url_scheme}://${aws_elasticache_user.app.user_name}:${random_password.app.result}@${aws_elasticache_replication_group.this.configuration_endpoint_address}:${aws_elasticache_replication_group.this.port}"
    ) : (
    "${var.url_scheme}://${aws_elasticache_user.app.user_name}@${aws_elasticache_replication_group.this.configuration_endpoint_address}:${aws_elasticache_replication_group.this.port}"
  )
}
