output "cluster_name" {
  description = "Name of the Atlas cluster (the `CLUSTER_NAME` matcher of its alert configurations)."
  value       = mongodbatlas_advanced_cluster.this.name
}

output "cluster_id" {
  description = "Atlas id of the cluster."
  value       = mongodbatlas_advanced_cluster.this.cluster_id
}

output "store_url" {
  description = "Connection string for `[subgraphs.catalog] store`: the PrivateLink SRV address (shard-optimised), authenticated as the task's IAM role. Empty until the endpoint service is available (a second `terraform apply` after the first refreshes it)."
  value = length(local.private_srv) == 0 ? "" : (
    "${local.private_srv[0]}/${var.database_name}?authSource=%24external&authMechanism=MONGODB-AWS&tls=true&retryWrites=true&w=majority"
  )

  depends_on = [mongodbatlas_privatelink_endpoint_service.this]
}

output "shard_collection_commands" {
  description = "mongosh commands that shard the catalog collections on the keys in `shard_keys` (run once, RUNBOOK.md)."
  value = [
    for coll, key in var.shard_keys :
    "sh.shardCollection(\"${var.database_name}.${coll}\", { \"${key.field}\": ${key.kind == "hashed" ? "\"hashed\"" : "1"} })"
  ]
}

output "endpoint_security_group_id" {
  description = "Security group of the PrivateLink endpoint."
  value       = aws_security_group.endpoint.id
}
