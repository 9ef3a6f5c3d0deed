variable "name" {
  description = "Instance name, e.g. `polygate-prod-org`."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9 _-]{2,29}$", var.name))
    error_message = "name must be 3-30 characters of letters, digits, space, _ and -."
  }
}

variable "project_id" {
  description = "Aura project (tenant) id the instance belongs to."
  type        = string
}

variable "cloud_provider" {
  description = "Cloud Aura runs the instance in: the services' cloud, so the Bolt connection stays in one provider's network."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "gcp", "azure"], var.cloud_provider)
    error_message = "cloud_provider must be aws, gcp or azure."
  }
}

variable "region" {
  description = "Region of the instance, by the cloud's own name (eu-central-1 for AWS Frankfurt)."
  type        = string
}

variable "type" {
  description = <<-EOT
    Aura tier. `enterprise-db` (Virtual Dedicated Cloud): hourly snapshots kept 60 days, read
    secondaries, metrics integration; `business-critical`: hourly snapshots kept 30 days, metrics
    integration, no secondaries; `professional-db`: daily snapshots kept 7 days (staging). Free
    instances have no scheduled snapshots and are refused here.
  EOT
  type        = string
  default     = "business-critical"

  validation {
    condition     = contains(["enterprise-db", "business-critical", "professional-db"], var.type)
    error_message = "type must be enterprise-db, business-critical or professional-db (free-db has no scheduled snapshots)."
  }
}

variable "memory" {
  description = "Memory of the instance (Aura sizes CPU with it); the module README gives the formula from store size."
  type        = string
  default     = "4GB"

  validation {
    condition     = contains(["1GB", "2GB", "4GB", "8GB", "16GB", "24GB", "32GB", "48GB", "64GB", "128GB", "192GB", "256GB", "384GB", "512GB"], var.memory)
    error_message = "memory must be one of the sizes Aura offers (1GB ... 512GB)."
  }
}

variable "storage" {
  description = "Storage of the instance; null lets Aura pick the default for the memory size."
  type        = string
  default     = null
}

variable "secondaries" {
  description = "Read-only secondaries spread over zones, serving routed reads (`neo4j+s://` routing, bookmarks for read-your-writes). Aura offers them on Virtual Dedicated Cloud (`enterprise-db`) only."
  type        = number
  default     = 0

  validation {
    condition     = var.secondaries >= 0 && var.secondaries <= 15
    error_message = "secondaries must be 0-15."
  }
}

variable "take_snapshot_on_apply" {
  description = "Take an on-demand snapshot when this module is applied (before a risky migration, say); scheduled snapshots happen regardless."
  type        = bool
  default     = false
}
