# One polygate environment: the networks, the six stores, the services, the alerts.
# envs/staging and envs/prod share this file word for word (a test holds them to it); what
# differs is terraform.tfvars.

data "aws_caller_identity" "current" {}

locals {
  name = "polygate-${var.environment}"

  # Ports are fixed by the code (polygate.example.toml, each subgraph's DEFAULT_PORT).
  ports = { gateway = 4000, commerce = 4001, session = 4002, telemetry = 4003, catalog = 4004, org = 4005, search = 4006 }

  commerce_shards = [for k in keys(var.commerce_databases) : k if k != "main"]

  # Secret configuration per service: every store URL carries a password or names a private
  # endpoint. The key names are the services' POLYGATE_* keys. Those of catalog, org, telemetry
  # and search follow the `store = <URL>` shape of commerce and session; align them with each
  # subgraph's [subgraphs.<name>] section when it lands (an unknown key stops start-up).
  secrets = {
    gateway = {
      POLYGATE_SUBGRAPHS__SESSION__STORE = module.redis.url
    }
    commerce = merge(
      {
        POLYGATE_SUBGRAPHS__COMMERCE__STORE = module.cloudsql.store_urls["main"].primary
        POLYGATE_SUBGRAPHS__COMMERCE__CACHE = module.redis.url
      },
      var.commerce_databases["main"].read_replicas > 0 ? { POLYGATE_SUBGRAPHS__COMMERCE__REPLICA = module.cloudsql.store_urls["main"].replica } : {},
      { for s in local.commerce_shards : "POLYGATE_SUBGRAPHS__COMMERCE__SHARDS__${upper(s)}" => module.cloudsql.store_urls[s].primary },
      { for s in local.commerce_shards : "POLYGATE_SUBGRAPHS__COMMERCE__SHARD_REPLICAS__${upper(s)}" => module.cloudsql.store_urls[s].replica if var.commerce_databases[s].read_replicas > 0 },
    )
    session = {
      POLYGATE_SUBGRAPHS__SESSION__STORE = module.redis.url
    }
    telemetry = {
      POLYGATE_SUBGRAPHS__TELEMETRY__STORE = module.timescale.store_url
    }
    catalog = {
      POLYGATE_SUBGRAPHS__CATALOG__STORE = module.atlas.store_url
      POLYGATE_SUBGRAPHS__CATALOG__CACHE = module.redis.url
    }
    org = {
      POLYGATE_SUBGRAPHS__ORG__STORE = replace(module.aura.connection_url, "://", "://${module.aura.username}:${module.aura.password}@")
    }
    search = {
      POLYGATE_SUBGRAPHS__SEARCH__STORE   = module.qdrant.url
      POLYGATE_SUBGRAPHS__SEARCH__API_KEY = module.qdrant.api_key
    }
  }

  # The names of the secret variables, known at plan time (the values are not).
  secret_names = {
    gateway = ["POLYGATE_SUBGRAPHS__SESSION__STORE"]
    commerce = concat(
      ["POLYGATE_SUBGRAPHS__COMMERCE__STORE", "POLYGATE_SUBGRAPHS__COMMERCE__CACHE"],
      var.commerce_databases["main"].read_replicas > 0 ? ["POLYGATE_SUBGRAPHS__COMMERCE__REPLICA"] : [],
      [for s in local.commerce_shards : "POLYGATE_SUBGRAPHS__COMMERCE__SHARDS__${upper(s)}"],
      [for s in local.commerce_shards : "POLYGATE_SUBGRAPHS__COMMERCE__SHARD_REPLICAS__${upper(s)}" if var.commerce_databases[s].read_replicas > 0],
    )
    session   = ["POLYGATE_SUBGRAPHS__SESSION__STORE"]
    telemetry = ["POLYGATE_SUBGRAPHS__TELEMETRY__STORE"]
    catalog   = ["POLYGATE_SUBGRAPHS__CATALOG__STORE", "POLYGATE_SUBGRAPHS__CATALOG__CACHE"]
    org       = ["POLYGATE_SUBGRAPHS__ORG__STORE"]
    search    = ["POLYGATE_SUBGRAPHS__SEARCH__STORE", "POLYGATE_SUBGRAPHS__SEARCH__API_KEY"]
  }

  # Where each service may connect besides AWS APIs (443): its own store, nothing else.
  redis_egress     = { description = "Redis (ElastiCache) in the VPC", cidr = var.aws_vpc_cidr, from_port = 6379, to_port = 6379 }
  cloudsql_egress  = { description = "Cloud SQL over the VPN", cidr = var.gcp_private_services_cidr, from_port = 5432, to_port = 5432 }
  timescale_egress = { description = "Timescale Cloud over VPC peering (direct and pooler)", cidr = var.timescale_vpc_cidr, from_port = 5432, to_port = 6432 }
  atlas_egress     = { description = "Atlas through the PrivateLink endpoint in the VPC", cidr = var.aws_vpc_cidr, from_port = 1024, to_port = 65535 }
  aura_egress      = { description = "Neo4j Aura Bolt over TLS (public endpoint)", cidr = "0.0.0.0/0", from_port = 7687, to_port = 7687 }
  qdrant_egress    = { description = "Qdrant Cloud REST and gRPC over TLS (IP allow-listed)", cidr = "0.0.0.0/0", from_port = 6333, to_port = 6334 }

  egress = {
    gateway   = [local.redis_egress]
    commerce  = [local.cloudsql_egress, local.redis_egress]
    session   = [local.redis_egress]
    telemetry = [local.timescale_egress]
    catalog   = [local.atlas_egress, local.redis_egress]
    org       = [local.aura_egress]
    search    = [local.qdrant_egress]
  }

  services = {
    for k, s in var.services : k => {
      binary    = k == "gateway" ? "polygate" : "polygate-${k}"
      port      = local.ports[k]
      public    = k == "gateway"
      cpu       = s.cpu
      memory    = s.memory
      min_tasks = s.min_tasks
      max_tasks = s.max_tasks
      # Why the gateway is checked on /health and the subgraphs on /ready: modules/gateway/main.tf.
      health_check_path = k == "gateway" ? "/health" : "/ready"
      environment = k == "gateway" ? {
        POLYGATE_SERVER__GRAPHIQL       = tostring(var.graphiql)
        POLYGATE_SERVER__INTROSPECTION  = tostring(var.graphiql)
        POLYGATE_SERVER__SEED_DEMO_DATA = "false"
      } : {}
      secret_names = local.secret_names[k]
      # commerce's login issues session tokens through the session service's capabilities
      # (`[subgraphs.session] url` in service mode, subgraphs/kit/src/remote_capabilities.rs).
      calls  = k == "commerce" ? ["session"] : []
      egress = local.egress[k]
    }
  }
}

module "network" {
  source = "../../modules/network"

  name                      = local.name
  aws_vpc_cidr              = var.aws_vpc_cidr
  availability_zones        = var.availability_zones
  single_nat_gateway        = var.single_nat_gateway
  gcp_project               = var.gcp_project
  gcp_region                = var.gcp_region
  gcp_private_services_cidr = var.gcp_private_services_cidr
}

module "cloudsql" {
  source = "../../modules/cloudsql"

  name                = local.name
  gcp_project         = var.gcp_project
  region              = var.gcp_region
  network_id          = module.network.gcp_network_id
  allocated_ip_range  = module.network.gcp_private_services_range_name
  databases           = var.commerce_databases
  availability_type   = var.cloudsql_availability_type
  deletion_protection = var.deletion_protection
  labels              = { project = "polygate", environment = var.environment }

  depends_on = [module.network] # instances need the private services connection first.
}

module "redis" {
  source = "../../modules/elasticache"

  name                      = "${local.name}-cache"
  vpc_id                    = module.network.aws_vpc_id
  subnet_ids                = module.network.aws_data_subnet_ids
  client_security_group_ids = [for k in ["gateway", "commerce", "session", "catalog"] : module.services.service_security_group_ids[k]]
  node_type                 = var.redis.node_type
  shards                    = var.redis.shards
  shards_min                = var.redis.shards_min
  shards_max                = var.redis.shards_max
  replicas_per_shard        = var.redis.replicas_per_shard
  replicas_max              = var.redis.replicas_max
  notification_topic_arn    = module.monitoring.alert_topic_arn
}

module "atlas" {
  source = "../../modules/mongodb-atlas"

  name                      = "${local.name}-catalog"
  project_id                = var.atlas_project_id
  atlas_region              = var.atlas_region
  aws_region                = var.aws_region
  shards                    = var.atlas.shards
  instance_size             = var.atlas.instance_size
  autoscaling               = { min_instance_size = var.atlas.min_instance_size, max_instance_size = var.atlas.max_instance_size, scale_down = true }
  shard_keys                = var.catalog_shard_keys
  app_role_arn              = module.services.task_role_arns["catalog"]
  vpc_id                    = module.network.aws_vpc_id
  subnet_ids                = module.network.aws_private_subnet_ids
  client_security_group_ids = [module.services.service_security_group_ids["catalog"]]
  termination_protection    = var.deletion_protection
}

module "aura" {
  source = "../../modules/neo4j-aura"

  name        = "${local.name}-org"
  project_id  = var.aura_project_id
  region      = var.aws_region
  type        = var.aura.type
  memory      = var.aura.memory
  secondaries = var.aura.secondaries
}

module "timescale" {
  source = "../../modules/timescale"

  name                 = "${local.name}-telemetry"
  region               = var.aws_region
  milli_cpu            = var.timescale.milli_cpu
  memory_gb            = var.timescale.memory_gb
  ha_replicas          = var.timescale.ha_replicas
  read_replica_nodes   = var.timescale.read_replica_nodes
  environment_tag      = var.timescale.environment_tag
  vpc_cidr             = var.timescale_vpc_cidr
  peer_vpc_id          = module.network.aws_vpc_id
  peer_account_id      = data.aws_caller_identity.current.account_id
  peer_route_table_ids = module.network.aws_private_route_table_ids
}

module "qdrant" {
  source = "../../modules/qdrant"

  name                 = "${local.name}-search"
  cloud_region         = var.aws_region
  nodes                = var.qdrant.nodes
  node_cpu             = var.qdrant.node_cpu
  node_ram             = var.qdrant.node_ram
  replication_factor   = var.qdrant.replication_factor
  allowed_source_cidrs = concat([for ip in module.network.aws_nat_public_ips : "${ip}/32"], var.qdrant_extra_source_cidrs)
}

module "services" {
  source = "../../modules/gateway"

  name                        = local.name
  vpc_id                      = module.network.aws_vpc_id
  public_subnet_ids           = module.network.aws_public_subnet_ids
  private_subnet_ids          = module.network.aws_private_subnet_ids
  certificate_arn             = var.api_certificate_arn
  internal_domain             = var.internal_domain
  internal_certificate_arn    = var.internal_certificate_arn
  image_tag                   = var.image_tag
  services                    = local.services
  secret_values               = local.secrets
  prometheus_remote_write_url = module.monitoring.prometheus_remote_write_url
  prometheus_workspace_arn    = module.monitoring.prometheus_workspace_arn
  deletion_protection         = var.deletion_protection

  # Clients for the runbook's one-off tasks, at the versions the stores run.
  ops_tasks = {
    "psql-commerce"   = { service = "commerce", image = "public.ecr.aws/docker/library/postgres:15.10" }
    "psql-telemetry"  = { service = "telemetry", image = "public.ecr.aws/docker/library/postgres:15.10" }
    "mongosh-catalog" = { service = "catalog", image = "public.ecr.aws/docker/library/mongo:8.0.4" }
  }
}

module "monitoring" {
  source = "../../modules/monitoring"

  name         = local.name
  alert_emails = var.alert_emails
  prometheus_rule_files = {
    for f in fileset("${path.module}/../../monitoring/rules", "*.yml") :
    trimsuffix(f, ".yml") => file("${path.module}/../../monitoring/rules/${f}")
  }

  elasticache = {
    replication_group_id = "${local.name}-cache"
    shards_max           = var.redis.shards_max
    replicas_max         = var.redis.replicas_max
  }

  cloudsql = {
    project   = var.gcp_project
    primaries = [for i in values(module.cloudsql.instances) : i.name]
    replicas  = [for r in values(module.cloudsql.replicas) : r.name]
  }

  atlas = {
    project_id   = var.atlas_project_id
    cluster_name = module.atlas.cluster_name
  }

  ecs = {
    cluster_name           = module.services.cluster_name
    min_tasks              = { for k, s in var.services : k => s.min_tasks }
    public_lb_arn_suffix   = module.services.public_lb_arn_suffix
    internal_lb_arn_suffix = module.services.internal_lb_arn_suffix
    gateway_service        = "gateway"
    target_groups          = module.services.target_group_arn_suffixes
  }

  vpn_connection_ids = module.network.aws_vpn_connection_ids

  # Each commerce process opens at most 10 connections per database and role (commerce's
  # store/postgres/mod.rs); more than all tasks at their maximum can open is a leak.
  thresholds = {
    cloudsql_connections = var.services["commerce"].max_tasks * 10 + 20
  }
}
