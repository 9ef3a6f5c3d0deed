variable "name" {
  description = "Service name, e.g. `polygate-prod-telemetry`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name))
    error_message = "name must be 3-41 characters of a-z, 0-9 and -."
  }
}

variable "region" {
  description = "AWS region of the service (Timescale Cloud runs on AWS): the services' region, so the VPC peering stays in-region."
  type        = string
}

variable "milli_cpu" {
  description = "CPU of the primary (and of each replica) in thousandths of a core; the module README gives the sizing formula."
  type        = number
  default     = 2000

  validation {
    condition     = contains([500, 1000, 2000, 4000, 8000, 16000, 32000], var.milli_cpu)
    error_message = "milli_cpu must be one of Timescale's compute sizes: 500, 1000, 2000, 4000, 8000, 16000, 32000."
  }
}

variable "memory_gb" {
  description = "Memory in GB; Timescale pairs it with the CPU at 4 GB per core (500 mCPU = 2 GB)."
  type        = number
  default     = 8

  validation {
    condition     = contains([2, 4, 8, 16, 32, 64, 128], var.memory_gb)
    error_message = "memory_gb must be one of 2, 4, 8, 16, 32, 64, 128."
  }
}

variable "ha_replicas" {
  description = "High-availability replicas: 1 = one standby that takes over on failure, 2 = two. 0 only for staging."
  type        = number
  default     = 1

  validation {
    condition     = contains([0, 1, 2], var.ha_replicas)
    error_message = "ha_replicas must be 0, 1 or 2."
  }
}

variable "read_replica_nodes" {
  description = "Nodes of the read replica set that dashboards and long-window queries can use (0 = no read replica)."
  type        = number
  default     = 1

  validation {
    condition     = var.read_replica_nodes >= 0 && var.read_replica_nodes <= 10
    error_message = "read_replica_nodes must be 0-10."
  }
}

variable "environment_tag" {
  description = "Timescale's environment tag: PROD services get production support and are protected in the console."
  type        = string
  default     = "PROD"

  validation {
    condition     = contains(["DEV", "PROD"], var.environment_tag)
    error_message = "environment_tag must be DEV or PROD."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the Timescale-side VPC peered with ours; must not overlap the AWS VPC or the Cloud SQL range."
  type        = string
  default     = "10.70.0.0/24"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be an IPv4 CIDR."
  }
}

variable "peer_vpc_id" {
  description = "Our AWS VPC (the network module's)."
  type        = string
}

variable "peer_account_id" {
  description = "AWS account of our VPC."
  type        = string
}

variable "peer_route_table_ids" {
  description = "Route tables of the subnets the telemetry service runs in (they get a route to the Timescale VPC)."
  type        = list(string)
}
