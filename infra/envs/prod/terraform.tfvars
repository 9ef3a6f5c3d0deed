# prod: every store highly available and replicated, deletion protection on.
# Sizes and how they were derived: each module's README ("Sizing").

environment  = "prod"
aws_region   = "eu-central-1"
atlas_region = "EU_CENTRAL_1"
gcp_project  = "polygate-prod"
gcp_region   = "europe-west3"

aws_vpc_cidr              = "10.40.0.0/16"
gcp_private_services_cidr = "10.60.0.0/16"
timescale_vpc_cidr        = "10.70.0.0/24"
availability_zones        = ["eu-central-1a", "eu-central-1b", "eu-central-1c"]
single_nat_gateway        = false

api_certificate_arn      = "arn:aws:acm:eu-central-1:000000000000:certificate/replace-with-the-api-certificate"
internal_domain          = "internal.polygate.example"
internal_certificate_arn = "arn:aws:acm:eu-central-1:000000000000:certificate/replace-with-the-internal-certificate"
image_tag                = "replace-with-release-tag"
alert_emails             = ["oncall@polygate.example"]
deletion_protection      = true
graphiql                 = false

cloudsql_availability_type = "REGIONAL"
commerce_databases = {
  main = { tier = "db-custom-4-16384", disk_size_gb = 200, disk_autoresize_limit_gb = 2000, read_replicas = 1 }
  b    = { tier = "db-custom-4-16384", disk_size_gb = 200, disk_autoresize_limit_gb = 2000, read_replicas = 1 }
}

redis = {
  node_type          = "cache.r7g.large"
  shards             = 2
  shards_min         = 2
  shards_max         = 6
  replicas_per_shard = 1
  replicas_max       = 2
}

atlas_project_id = "000000000000000000000000"
atlas = {
  shards            = 2
  instance_size     = "M30"
  min_instance_size = "M30"
  max_instance_size = "M60"
}

aura_project_id = "replace-with-aura-project-id"
aura = {
  type        = "enterprise-db" # Virtual Dedicated Cloud: the tier with read secondaries.
  memory      = "8GB"
  secondaries = 1
}

timescale_project_id = "replace-with-timescale-project-id"
timescale = {
  milli_cpu          = 2000
  memory_gb          = 8
  ha_replicas        = 1
  read_replica_nodes = 1
  environment_tag    = "PROD"
}

qdrant_account_id = "replace-with-qdrant-account-id"
qdrant = {
  nodes              = 3
  node_cpu           = "2000m"
  node_ram           = "8Gi"
  replication_factor = 2
}

services = {
  gateway   = { min_tasks = 3, max_tasks = 20, cpu = 1024, memory = 2048 }
  commerce  = { min_tasks = 2, max_tasks = 12, cpu = 1024, memory = 2048 }
  session   = { min_tasks = 2, max_tasks = 8, cpu = 512, memory = 1024 }
  telemetry = { min_tasks = 2, max_tasks = 8, cpu = 512, memory = 1024 }
  catalog   = { min_tasks = 2, max_tasks = 8, cpu = 512, memory = 1024 }
  org       = { min_tasks = 2, max_tasks = 8, cpu = 512, memory = 1024 }
  search    = { min_tasks = 2, max_tasks = 8, cpu = 1024, memory = 2048 }
}
