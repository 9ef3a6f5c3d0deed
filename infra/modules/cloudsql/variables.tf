variable "name" {
  description = "Prefix of the instance names, e.g. `polygate-prod`; an instance is `<name>-commerce-<database>`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be 3-41 characters of a-z, 0-9 and -, starting with a letter."
  }
}

variable "gcp_project" {
  description = "GCP project of the instances."
  type        = string
}

variable "region" {
  description = "GCP region of the instances (the same metro as the AWS region that runs the services)."
  type        = string
}

variable "network_id" {
  description = "The VPC the instances get their private IP in (`network` module output `gcp_network_id`)."
  type        = string
}

variable "allocated_ip_range" {
  description = "Name of the private services range the private IPs come from (`network` output `gcp_private_services_range_name`)."
  type        = string
}

variable "databases" {
  description = <<-EOT
    The commerce databases, by the names commerce's configuration uses: `main` is the catalog
    database (products, stock, the shard map, and every logical shard not moved elsewhere); any
    other key is a shard database (`[subgraphs.commerce.shards]`). Each is its own Cloud SQL
    instance with its own HA standby and `read_replicas` streaming replicas. Adding a key and
    running `polygate-commerce move-shard` is how commerce grows (RUNBOOK.md). `instance_name`
    adopts an instance under another name: a point-in-time clone promoted after a restore
    (Cloud SQL instances cannot be renamed).
  EOT
  type = map(object({
    tier                     = string
    disk_size_gb             = number
    disk_autoresize_limit_gb = number
    read_replicas            = number
    replica_tier             = optional(string)
    instance_name            = optional(string)
  }))

  validation {
    condition     = contains(keys(var.databases), "main")
    error_message = "databases must contain `main`, the catalog database."
  }

  validation {
    condition     = alltrue([for k in keys(var.databases) : can(regex("^[a-z0-9_]{1,20}$", k))])
    error_message = "database names are commerce shard names: 1-20 characters of a-z, 0-9 and _."
  }

  validation {
    condition     = alltrue([for d in values(var.databases) : d.read_replicas >= 0 && d.read_replicas <= 5])
    error_message = "read_replicas must be between 0 and 5 per database."
  }

  validation {
    condition     = alltrue([for d in values(var.databases) : can(regex("^db-custom-[0-9]+-[0-9]+$", d.tier))])
    error_message = "tier must be an Enterprise-edition custom machine type, db-custom-<vCPUs>-<MiB>."
  }

  validation {
    condition     = alltrue([for d in values(var.databases) : d.disk_size_gb >= 10 && d.disk_autoresize_limit_gb >= d.disk_size_gb])
    error_message = "disk_size_gb must be at least 10 and disk_autoresize_limit_gb at least disk_size_gb."
  }
}

variable "postgres_version" {
  description = "PostgreSQL major version; 15 is what the test suite and the benchmarks run (Debian bookworm's)."
  type        = string
  default     = "POSTGRES_15"

  validation {
    condition     = contains(["POSTGRES_15", "POSTGRES_16", "POSTGRES_17"], var.postgres_version)
    error_message = "postgres_version must be POSTGRES_15, POSTGRES_16 or POSTGRES_17."
  }
}

variable "availability_type" {
  description = "REGIONAL = a synchronous standby in a second zone with automatic failover (prod); ZONAL = one zone (staging only)."
  type        = string
  default     = "REGIONAL"

  validation {
    condition     = contains(["REGIONAL", "ZONAL"], var.availability_type)
    error_message = "availability_type must be REGIONAL or ZONAL."
  }
}

variable "backup_start_time" {
  description = "UTC start of the daily backup window, HH:MM."
  type        = string
  default     = "03:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.backup_start_time))
    error_message = "backup_start_time must be HH:MM in 24-hour UTC."
  }
}

variable "transaction_log_retention_days" {
  description = "Days of WAL kept for point-in-time recovery (1-7 on the Enterprise edition)."
  type        = number
  default     = 7

  validation {
    condition     = var.transaction_log_retention_days >= 1 && var.transaction_log_retention_days <= 7
    error_message = "transaction_log_retention_days must be 1-7 (Enterprise edition)."
  }
}

variable "retained_backups" {
  description = "Daily backups kept; one more than the days of WAL keeps a base backup before the oldest day PITR can reach."
  type        = number
  default     = 8

  validation {
    condition     = var.retained_backups >= 2 && var.retained_backups <= 365
    error_message = "retained_backups must be 2-365."
  }
}

variable "maintenance_window" {
  description = "Weekly maintenance window: day 1-7 (Monday = 1) and UTC hour 0-23; `update_track` canary, stable or week5."
  type = object({
    day          = number
    hour         = number
    update_track = string
  })
  default = { day = 7, hour = 4, update_track = "stable" }

  validation {
    condition     = var.maintenance_window.day >= 1 && var.maintenance_window.day <= 7 && var.maintenance_window.hour >= 0 && var.maintenance_window.hour <= 23 && contains(["canary", "stable", "week5"], var.maintenance_window.update_track)
    error_message = "maintenance_window: day 1-7, hour 0-23, update_track canary|stable|week5."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instances, in Terraform and in the Cloud SQL API. Only a deliberate two-step change may turn it off."
  type        = bool
  default     = true
}

variable "extra_database_flags" {
  description = "Flags added to the ones this module sets for monitoring and logging, by name (a name the module already sets is ignored: change the module, where the reason for each value is written)."
  type        = map(string)
  default     = {}
}

variable "database_name" {
  description = "Name of the PostgreSQL database on every instance."
  type        = string
  default     = "commerce"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.database_name))
    error_message = "database_name must be a lower-case PostgreSQL identifier."
  }
}

variable "labels" {
  description = "Labels on every instance."
  type        = map(string)
  default     = {}
}
