variable "name" {
  description = "Replication group id and prefix of the other names, e.g. `polygate-prod-cache`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,34}[a-z0-9]$", var.name))
    error_message = "name must be 2-36 characters of a-z, 0-9 and -, starting with a letter and not ending with - (the group id allows 40 with suffixes)."
  }
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the cluster's nodes, one per zone (the network module's data subnets)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Multi-AZ needs subnets in at least two zones."
  }
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect (the services that use Redis: gateway, session, commerce, catalog)."
  type        = list(string)
}

variable "engine_version" {
  description = "Redis OSS version; 7.1 is the newest minor of the major the tests run (Debian's Redis 7)."
  type        = string
  default     = "7.1"

  validation {
    condition     = can(regex("^7\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be a Redis 7 minor version, e.g. 7.1 (the parameter group family is redis7)."
  }
}

variable "node_type" {
  description = "Node type; memory per node = the size of one shard (see the module README for the sizing formula). Auto scaling needs an M or R family type."
  type        = string
  default     = "cache.r7g.large"

  validation {
    condition     = can(regex("^cache\\.(m|r)[0-9]+g?d?\\.[a-z0-9]+$", var.node_type))
    error_message = "node_type must be an M or R family type (cache.m7g.large, cache.r7g.xlarge, ...): auto scaling and Multi-AZ need them."
  }
}

variable "shards" {
  description = "Shards (node groups) at creation; auto scaling moves the count between `shards_min` and `shards_max` afterwards."
  type        = number
  default     = 2

  validation {
    condition     = var.shards >= 1 && var.shards <= 500
    error_message = "shards must be 1-500."
  }
}

variable "shards_min" {
  description = "Fewest shards auto scaling may leave."
  type        = number
  default     = 2
}

variable "shards_max" {
  description = "Most shards auto scaling may add."
  type        = number
  default     = 6

  validation {
    condition     = var.shards_max >= 1 && var.shards_max <= 500
    error_message = "shards_max must be 1-500."
  }
}

variable "replicas_per_shard" {
  description = "Replicas per shard at creation; at least 1 for automatic failover (a master without a replica loses its slots' data when it fails)."
  type        = number
  default     = 1

  validation {
    condition     = var.replicas_per_shard >= 1 && var.replicas_per_shard <= 5
    error_message = "replicas_per_shard must be 1-5: Multi-AZ with automatic failover needs a replica in every shard."
  }
}

variable "replicas_max" {
  description = "Most replicas per shard auto scaling may add (replicas serve no reads here, so they scale for failover headroom only)."
  type        = number
  default     = 2

  validation {
    condition     = var.replicas_max >= 1 && var.replicas_max <= 5
    error_message = "replicas_max must be 1-5."
  }
}

variable "target_cpu_percent" {
  description = "Target engine CPU of the primaries for shard auto scaling (Redis is single-threaded: a primary near 100 % of its engine core is saturated)."
  type        = number
  default     = 60

  validation {
    condition     = var.target_cpu_percent >= 20 && var.target_cpu_percent <= 90
    error_message = "target_cpu_percent must be 20-90."
  }
}

variable "target_memory_percent" {
  description = "Target memory use (counted for eviction) for shard auto scaling: a new shard is added before eviction starts."
  type        = number
  default     = 70

  validation {
    condition     = var.target_memory_percent >= 30 && var.target_memory_percent <= 90
    error_message = "target_memory_percent must be 30-90."
  }
}

variable "maxmemory_policy" {
  description = "Eviction policy. `volatile-ttl` per the session design (subgraphs/session/README.md, Memory policy): every key has a TTL; evict the ones closest to expiring."
  type        = string
  default     = "volatile-ttl"

  validation {
    condition     = contains(["volatile-ttl", "volatile-lru", "volatile-lfu"], var.maxmemory_policy)
    error_message = "maxmemory_policy must be a volatile-* policy: every key polygate writes has a TTL, and data without one is not ours to evict (session design)."
  }
}

variable "auth_mode" {
  description = "How the application user signs in: `password` (RBAC user with a generated password, today) or `iam` (a SigV4 token from the task role, signed by the session store: its `redis_iam` setting)."
  type        = string
  default     = "password"

  validation {
    condition     = contains(["password", "iam"], var.auth_mode)
    error_message = "auth_mode must be password or iam."
  }
}

variable "url_scheme" {
  description = "Scheme of the URL handed to the services. `rediss-cluster`: the cluster requires TLS, and the services reach the seed and every node it reveals over TLS (subgraphs/kit/src/redis.rs)."
  type        = string
  default     = "rediss-cluster"

  validation {
    condition     = can(regex("^rediss?(-cluster)?$", var.url_scheme))
    error_message = "url_scheme must be redis, rediss, redis-cluster or rediss-cluster."
  }
}

variable "snapshot_retention_days" {
  description = "Days automatic snapshots are kept (0 would turn snapshots off, which this module refuses)."
  type        = number
  default     = 7

  validation {
    condition     = var.snapshot_retention_days >= 1 && var.snapshot_retention_days <= 35
    error_message = "snapshot_retention_days must be 1-35."
  }
}

variable "snapshot_window" {
  description = "Daily UTC window for the automatic snapshot, hh:mm-hh:mm, at least 60 minutes, not overlapping the maintenance window."
  type        = string
  default     = "02:00-03:00"
}

variable "maintenance_window" {
  description = "Weekly UTC maintenance window, ddd:hh:mm-ddd:hh:mm."
  type        = string
  default     = "sun:04:00-sun:05:00"

  validation {
    condition     = can(regex("^(mon|tue|wed|thu|fri|sat|sun):[0-2][0-9]:[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):[0-2][0-9]:[0-5][0-9]$", var.maintenance_window))
    error_message = "maintenance_window must look like sun:04:00-sun:05:00."
  }
}

variable "log_retention_days" {
  description = "Days the slow log and engine log are kept in CloudWatch Logs."
  type        = number
  default     = 365
}

variable "notification_topic_arn" {
  description = "SNS topic for ElastiCache events (failovers, node replacements); null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
