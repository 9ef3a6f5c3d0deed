# Every setting of an environment; the values are in terraform.tfvars (no secrets there: the
# sensitive ones below come from TF_VAR_* in the shell that applies).

variable "environment" {
  description = "Environment name: staging or prod."
  type        = string

  validation {
    condition     = contains(["staging", "prod"], var.environment)
    error_message = "environment must be staging or prod."
  }
}

variable "aws_region" {
  description = "AWS region of the services, ElastiCache, Atlas, Aura, Timescale Cloud and Qdrant Cloud."
  type        = string
}

variable "atlas_region" {
  description = "The same region by Atlas's name (EU_CENTRAL_1 for eu-central-1)."
  type        = string
}

variable "gcp_project" {
  description = "GCP project of Cloud SQL."
  type        = string
}

variable "gcp_region" {
  description = "GCP region of Cloud SQL: the same metro as aws_region (europe-west3 and eu-central-1 are both Frankfurt)."
  type        = string
}

variable "aws_vpc_cidr" {
  description = "CIDR of the AWS VPC."
  type        = string
}

variable "gcp_private_services_cidr" {
  description = "CIDR reserved for Cloud SQL private IPs."
  type        = string
}

variable "timescale_vpc_cidr" {
  description = "CIDR of the Timescale Cloud VPC peered with ours."
  type        = string
}

variable "availability_zones" {
  description = "Zones of the AWS VPC, by name."
  type        = list(string)
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (staging) instead of one per zone."
  type        = bool
}

variable "api_certificate_arn" {
  description = "ACM certificate of the public API host name."
  type        = string
}

variable "internal_domain" {
  description = "Private DNS zone of the subgraph endpoints."
  type        = string
}

variable "internal_certificate_arn" {
  description = "ACM certificate of subgraphs.<internal_domain>."
  type        = string
}

variable "image_tag" {
  description = "Release to run (the same tag in every repository)."
  type        = string
}

variable "alert_emails" {
  description = "Who receives alerts."
  type        = list(string)
}

variable "deletion_protection" {
  description = "Protect databases and load balancers from deletion."
  type        = bool
}

variable "commerce_databases" {
  description = "Commerce's Cloud SQL instances (cloudsql module `databases`)."
  type = map(object({
    tier                     = string
    disk_size_gb             = number
    disk_autoresize_limit_gb = number
    read_replicas            = number
    replica_tier             = optional(string)
    instance_name            = optional(string)
  }))
}

variable "cloudsql_availability_type" {
  description = "REGIONAL (prod) or ZONAL (staging)."
  type        = string
}

variable "redis" {
  description = "ElastiCache sizing: node type, shards and their auto-scaling bounds, replicas per shard."
  type = object({
    node_type          = string
    shards             = number
    shards_min         = number
    shards_max         = number
    replicas_per_shard = number
    replicas_max       = number
  })
}

variable "atlas_project_id" {
  description = "Atlas project of this environment."
  type        = string
}

variable "atlas" {
  description = "Atlas sizing: shards, starting instance size, auto-scaling bounds."
  type = object({
    shards            = number
    instance_size     = string
    min_instance_size = string
    max_instance_size = string
  })
}

variable "catalog_shard_keys" {
  description = "Shard key per catalog collection. Default: products hashed on _id (the SKU), reviews hashed on sku, as the catalog design (subgraphs/catalog/README.md) chooses."
  type = map(object({
    field = string
    kind  = string
  }))
  default = {
    products = { field = "_id", kind = "hashed" }
    reviews  = { field = "sku", kind = "hashed" }
  }
}

variable "aura_project_id" {
  description = "Aura project (tenant) of this environment."
  type        = string
}

variable "aura" {
  description = "Aura tier, memory and read secondaries."
  type = object({
    type        = string
    memory      = string
    secondaries = number
  })
}

variable "timescale_project_id" {
  description = "Timescale Cloud project of this environment."
  type        = string
}

variable "timescale" {
  description = "Timescale sizing: CPU, memory, HA replicas, read replica nodes, environment tag."
  type = object({
    milli_cpu          = number
    memory_gb          = number
    ha_replicas        = number
    read_replica_nodes = number
    environment_tag    = string
  })
}

variable "qdrant_account_id" {
  description = "Qdrant Cloud account of this environment."
  type        = string
}

variable "qdrant" {
  description = "Qdrant sizing: nodes, node package (CPU, RAM), default replication factor."
  type = object({
    nodes              = number
    node_cpu           = string
    node_ram           = string
    replication_factor = number
  })
}

variable "qdrant_extra_source_cidrs" {
  description = "Addresses allowed to reach Qdrant Cloud besides our NAT gateways, for an operator's restore (RUNBOOK.md); empty otherwise."
  type        = list(string)
  default     = []
}

variable "services" {
  description = "Per service: tasks (min, max), CPU units and memory (MiB) of one task."
  type = map(object({
    min_tasks = number
    max_tasks = number
    cpu       = number
    memory    = number
  }))
}

variable "graphiql" {
  description = "Serve GraphiQL and answer introspection on the public API."
  type        = bool
}

# --- Credentials of the SaaS providers that take them only as provider arguments. ---

variable "aura_client_id" {
  description = "Aura API client id (TF_VAR_aura_client_id)."
  type        = string
  sensitive   = true
}

variable "aura_client_secret" {
  description = "Aura API client secret (TF_VAR_aura_client_secret)."
  type        = string
  sensitive   = true
}

variable "timescale_access_key" {
  description = "Timescale client credentials: access key (TF_VAR_timescale_access_key)."
  type        = string
  sensitive   = true
}

variable "timescale_secret_key" {
  description = "Timescale client credentials: secret key (TF_VAR_timescale_secret_key)."
  type        = string
  sensitive   = true
}
