variable "name" {
  description = "Prefix of every alarm and resource name, e.g. `polygate-prod`."
  type        = string
}

variable "alert_emails" {
  description = "Who is told when an alarm fires (SNS e-mail subscriptions, the Cloud Monitoring channel, Atlas e-mail notifications)."
  type        = list(string)

  validation {
    condition     = length(var.alert_emails) > 0 && alltrue([for e in var.alert_emails : can(regex("^[^@ ]+@[^@ ]+\\.[^@ ]+$", e))])
    error_message = "alert_emails must list at least one e-mail address."
  }
}

variable "prometheus_rule_files" {
  description = "Prometheus rule files (name => YAML content) loaded into the Managed Prometheus workspace; infra/monitoring/rules/*.yml, checked by promtool."
  type        = map(string)
}

variable "elasticache" {
  description = "The Redis cluster: replication group id, and the largest shard and replica counts auto scaling may reach (alarms exist for every node that can exist)."
  type = object({
    replication_group_id = string
    shards_max           = number
    replicas_max         = number
  })
}

variable "cloudsql" {
  description = "Cloud SQL: project and the names of the primaries and replicas to watch."
  type = object({
    project   = string
    primaries = list(string)
    replicas  = list(string)
  })
}

variable "atlas" {
  description = "Atlas project and cluster name."
  type = object({
    project_id   = string
    cluster_name = string
  })
}

variable "ecs" {
  description = "ECS cluster, each service's minimum task count, and the load balancer dimensions."
  type = object({
    cluster_name           = string
    min_tasks              = map(number)
    public_lb_arn_suffix   = string
    internal_lb_arn_suffix = string
    gateway_service        = string
    target_groups          = map(string)
  })
}

variable "vpn_connection_ids" {
  description = "AWS site-to-site VPN connections to GCP (every Cloud SQL query crosses them)."
  type        = list(string)
}

variable "thresholds" {
  description = "Alarm thresholds; any left out keeps its default. The module README says where each default comes from."
  type = object({
    redis_cpu_percent         = optional(number, 75)
    redis_memory_percent      = optional(number, 80)
    redis_replication_lag_s   = optional(number, 5)
    redis_connections         = optional(number, 10000)
    cloudsql_cpu_ratio        = optional(number, 0.8)
    cloudsql_disk_ratio       = optional(number, 0.85)
    cloudsql_replica_lag_s    = optional(number, 30)
    cloudsql_connections      = optional(number, 150)
    atlas_cpu_percent         = optional(number, 80)
    atlas_disk_percent        = optional(number, 80)
    atlas_connections_percent = optional(number, 80)
    atlas_replication_lag_s   = optional(number, 60)
    gateway_5xx_per_minute    = optional(number, 10)
  })
  default = {}
}

variable "tags" {
  description = "Tags on the AWS resources."
  type        = map(string)
  default     = {}
}
