# staging: the same shape as prod, smaller, single-zone where the store allows it, and still
# replicated where a code path depends on a replica (commerce's replica reads).

environment  = "staging"
aws_region   = "eu-central-1"
atlas_region = "EU_CENTRAL_1"
gcp_project  = "polygate-staging"
gcp_region   = "europe-west3"

aws_vpc_cidr              = "10.41.0.0/16"
gcp_private_services_cidr = "10.61.0.0/16"
timescale_vpc_cidr        = "10.71.0.0/24"
availability_zones        = ["eu-central-1a", "eu-central-1b"]
single_nat_gateway        = true

api_certificate_arn      = "arn:aws:acm:eu-central-1:000000000000:certificate/replace-with-the-api-certificate"
internal_domain          = "internal.staging.polygate.example"
internal_certificate_arn = "arn:aws:acm:eu-central-1:000000000000:certificate/replace-with-the-internal-certificate"
image_tag                = "replace-with-release-tag"
alert_emails             = ["oncall@polygate.example"]
deletion_protection      = false
graphiql                 = true

cloudsql_availability_type = "ZONAL"
commerce_databases = {
  main = { tier = "db-custom-1-3840", disk_size_gb = 20, disk_autoresize_limit_gb = 100, read_replicas = 1 }
}

redis = {
  node_type          = "cache.m7g.large"
  shards             = 1
  shards_min         = 1
  shards_max         = 2
  replicas_per_shard = 1
  replicas_max       = 1
}

atlas_project_id = "000000000000000000000000"
atlas = {
  shards            = 1
  instance_size     = "M30"
  min_instance_size = "M30"
  max_instance_size = "M30"
}

aura_project_id = "replace-with-aura-project-id"
aura = {
  type        = "professional-db"
  memory      = "2GB"
  secondaries = 0
}

timescale_project_id = "replace-with-timescale-project-id"
timescale = {
  milli_cpu          = 500
  memory_gb          = 2
  ha_replicas        = 0
  read_replica_nodes = 0
  environment_tag    = "DEV"
}

qdrant_account_id = "replace-with-qdrant-account-id"
qdrant = {
  nodes              = 1
  node_cpu           = "500m"
  node_ram           = "2Gi"
  replication_factor = 1
}

services = {
  gateway   = { min_tasks = 2, max_tasks = 4, cpu = 512, memory = 1024 }
  commerce  = { min_tasks = 1, max_tasks = 2, cpu = 512, memory = 1024 }
  session   = { min_tasks = 1, max_tasks = 2, cpu = 256, memory = 512 }
  telemetry = { min_tasks = 1, max_tasks = 2, cpu = 256, memory = 512 }
  catalog   = { min_tasks = 1, max_tasks = 2, cpu = 256, memory = 512 }
  org       = { min_tasks = 1, max_tasks = 2, cpu = 256, memory = 512 }
  search    = { min_tasks = 1, max_tasks = 2, cpu = 512, memory = 1024 }
}
