variable "name" {
  description = "Cluster name and prefix of the AWS resources, e.g. `polygate-prod-catalog`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,22}$", var.name))
    error_message = "name must be 3-23 characters of a-z, 0-9 and - (Atlas truncates host names of longer cluster names)."
  }
}

variable "project_id" {
  description = "Atlas project (created once per environment by an organisation owner; see infra/README.md)."
  type        = string
}

variable "atlas_region" {
  description = "Atlas name of the AWS region, e.g. EU_CENTRAL_1 (the region the services run in)."
  type        = string

  validation {
    condition     = can(regex("^[A-Z]{2}_[A-Z]+_[0-9]$", var.atlas_region))
    error_message = "atlas_region must be an Atlas region name such as EU_CENTRAL_1."
  }
}

variable "aws_region" {
  description = "The same region by its AWS name, e.g. eu-central-1 (PrivateLink endpoint)."
  type        = string
}

variable "mongodb_major_version" {
  description = "MongoDB major version."
  type        = string
  default     = "8.0"

  validation {
    condition     = contains(["7.0", "8.0"], var.mongodb_major_version)
    error_message = "mongodb_major_version must be 7.0 or 8.0."
  }
}

variable "shards" {
  description = "Number of shards, each a three-member replica set over three zones."
  type        = number
  default     = 2

  validation {
    condition     = var.shards >= 1 && var.shards <= 50
    error_message = "shards must be 1-50."
  }
}

variable "instance_size" {
  description = "Instance size each shard starts at (M30 is the smallest size Atlas runs sharded clusters on)."
  type        = string
  default     = "M30"

  validation {
    condition     = can(regex("^M[0-9]{2,3}$", var.instance_size)) && tonumber(substr(var.instance_size, 1, -1)) >= 30
    error_message = "instance_size must be M30 or larger: Atlas sharded clusters need M30+."
  }
}

variable "autoscaling" {
  description = "Compute auto-scaling bounds per shard (Atlas scales each shard on its own CPU and memory), and whether it may scale down."
  type = object({
    min_instance_size = string
    max_instance_size = string
    scale_down        = bool
  })
  default = { min_instance_size = "M30", max_instance_size = "M60", scale_down = true }

  validation {
    condition     = can(regex("^M[0-9]{2,3}$", var.autoscaling.min_instance_size)) && can(regex("^M[0-9]{2,3}$", var.autoscaling.max_instance_size)) && tonumber(substr(var.autoscaling.min_instance_size, 1, -1)) <= tonumber(substr(var.autoscaling.max_instance_size, 1, -1))
    error_message = "autoscaling sizes must be M-sizes with min <= max."
  }
}

variable "backup" {
  description = "Cloud backup policy: hours between snapshots, and how long hourly, daily, weekly and monthly snapshots are kept; `restore_window_days` is how far back continuous cloud backup (point-in-time restore) reaches."
  type = object({
    hourly_every_hours  = number
    hourly_keep_days    = number
    daily_keep_days     = number
    weekly_keep_weeks   = number
    monthly_keep_months = number
    restore_window_days = number
    reference_hour_utc  = number
  })
  default = {
    hourly_every_hours  = 6
    hourly_keep_days    = 2
    daily_keep_days     = 7
    weekly_keep_weeks   = 4
    monthly_keep_months = 12
    restore_window_days = 7
    reference_hour_utc  = 3
  }

  validation {
    condition     = contains([1, 2, 4, 6, 8, 12], var.backup.hourly_every_hours) && var.backup.restore_window_days >= 1 && var.backup.hourly_keep_days <= var.backup.daily_keep_days && var.backup.daily_keep_days <= var.backup.weekly_keep_weeks * 7 && var.backup.reference_hour_utc >= 0 && var.backup.reference_hour_utc <= 23
    error_message = "backup: hourly_every_hours one of 1,2,4,6,8,12; restore_window_days >= 1; each less frequent policy keeps at least as long as the more frequent one (Atlas requires it)."
  }
}

variable "shard_keys" {
  description = <<-EOT
    Shard key per collection of the `catalog` database, applied with `sh.shardCollection` after the
    cluster exists (output `shard_collection_commands`, RUNBOOK.md). Default, as the catalog design
    (subgraphs/catalog/README.md, "Scaling") chooses from its simulation: products hashed on `_id`
    (the SKU, the key every other subgraph references Product by) and reviews hashed on `sku`, so
    a product and its reviews page are each read from one shard.
  EOT
  type = map(object({
    field = string
    kind  = string
  }))
  default = {
    products = { field = "_id", kind = "hashed" }
    reviews  = { field = "sku", kind = "hashed" }
  }

  validation {
    condition     = alltrue([for k in values(var.shard_keys) : contains(["hashed", "1"], k.kind)])
    error_message = "shard key kind must be \"hashed\" or \"1\" (ranged)."
  }
}

variable "database_name" {
  description = "Database the catalog service reads and writes."
  type        = string
  default     = "catalog"
}

variable "app_role_arn" {
  description = "IAM role of the catalog service's tasks; it signs in with MONGODB-AWS (no password exists)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws:iam::[0-9]{12}:role/", var.app_role_arn))
    error_message = "app_role_arn must be an IAM role ARN."
  }
}

variable "vpc_id" {
  description = "VPC the PrivateLink interface endpoint is created in."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the interface endpoint (the network module's private subnets)."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed through the endpoint (the catalog service's)."
  type        = list(string)
}

variable "termination_protection" {
  description = "Refuse to delete the cluster through any API until switched off."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags on the AWS resources."
  type        = map(string)
  default     = {}
}
