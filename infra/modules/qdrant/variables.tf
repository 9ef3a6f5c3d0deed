variable "name" {
  description = "Cluster name, e.g. `polygate-prod-search`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be 3-41 characters of a-z, 0-9 and -."
  }
}

variable "cloud_provider" {
  description = "Cloud the cluster runs in: the services' cloud."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "gcp", "azure"], var.cloud_provider)
    error_message = "cloud_provider must be aws, gcp or azure."
  }
}

variable "cloud_region" {
  description = "Region of the cluster (the services' region, e.g. eu-central-1)."
  type        = string
}

variable "nodes" {
  description = "Nodes in the cluster. Shards and their replicas spread over them; with replication_factor 2 a node can fail without losing a shard."
  type        = number
  default     = 3

  validation {
    condition     = var.nodes >= 1 && var.nodes <= 20
    error_message = "nodes must be 1-20."
  }
}

variable "node_cpu" {
  description = "CPU of one node as Qdrant's packages name it (e.g. 2000m); with `node_ram` it selects the package (module README: sizing)."
  type        = string
  default     = "2000m"
}

variable "node_ram" {
  description = "RAM of one node as Qdrant's packages name it (e.g. 8Gi)."
  type        = string
  default     = "8Gi"
}

variable "replication_factor" {
  description = "Default replication factor of new collections (the search service creates its collection with it): copies of every shard on distinct nodes."
  type        = number
  default     = 2

  validation {
    condition     = var.replication_factor >= 1 && var.replication_factor <= 5
    error_message = "replication_factor must be 1-5."
  }
}

variable "backup_cron" {
  description = "When the scheduled backup (a snapshot of every node) runs, cron syntax, UTC."
  type        = string
  default     = "0 */6 * * *"

  validation {
    condition     = length(split(" ", var.backup_cron)) == 5
    error_message = "backup_cron must have five cron fields."
  }
}

variable "backup_retention" {
  description = "How long scheduled backups are kept, as a Go duration (168h = 7 days)."
  type        = string
  default     = "168h"

  validation {
    condition     = can(regex("^[0-9]+h$", var.backup_retention))
    error_message = "backup_retention must be hours, e.g. 168h."
  }
}

variable "allowed_source_cidrs" {
  description = "Addresses allowed to connect (our NAT gateways' /32s): Qdrant Cloud clusters are reached over the internet with TLS and an API key, so the IP filter is the network boundary."
  type        = list(string)

  validation {
    condition     = length(var.allowed_source_cidrs) > 0 && alltrue([for c in var.allowed_source_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "allowed_source_cidrs must list at least one CIDR, and not 0.0.0.0/0."
  }
}
