output "service_id" {
  description = "Timescale service id of the primary (forks, the runbook's commands)."
  value       = timescale_service.primary.id
}

output "hostname" {
  description = "Host of the primary."
  value       = timescale_service.primary.hostname
}

output "pooler_hostname" {
  description = "Host of the connection pooler (transaction mode)."
  value       = timescale_service.primary.pooler_hostname
}

output "read_replica_hostname" {
  description = "Host of the read replica set, or null."
  value       = try(timescale_service.read_replica[0].hostname, null)
}

output "store_url" {
  description = "URL for `[subgraphs.telemetry] store`: the primary, direct (the bulk COPY path needs a session, not the transaction pooler), TLS required. Sensitive."
  sensitive   = true
  value       = "postgres://${timescale_service.primary.username}:${random_password.this.result}@${timescale_service.primary.hostname}:${timescale_service.primary.port}/tsdb?sslmode=require"
}

output "read_replica_url" {
  description = "URL of the read replica set, or null. Sensitive."
  sensitive   = true
  value = try(
    "postgres://${timescale_service.primary.username}:${random_password.this.result}@${timescale_service.read_replica[0].hostname}:${timescale_service.read_replica[0].port}/tsdb?sslmode=require",
    null
  )
}
