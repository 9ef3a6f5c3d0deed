# Commerce's PostgreSQL on Cloud SQL: one instance per commerce database (`main` plus shard
# databases), each regional (synchronous standby, automatic failover), backed up daily with
# point-in-time recovery, reachable only on a private IP over TLS, with streaming read replicas.
#
# Non-obvious: PITR is off by default for Enterprise-edition instances created through the API
# and turning it on later restarts the instance, so it is set here from the first apply; and
# one more daily backup is kept than days of WAL, so the oldest moment PITR promises always has
# a base backup before it (subgraphs/commerce/README.md, "Backups and point-in-time recovery").

locals {
  # Every flag the instances below set (extra_database_flags may add others, not change these).
  module_flags = [
    "cloudsql.enable_pgaudit",
    "pgaudit.log",
    "log_checkpoints",
    "log_connections",
    "log_disconnections",
    "log_hostname",
    "log_lock_waits",
    "log_temp_files",
    "log_min_messages",
    "log_min_error_statement",
    "log_min_duration_statement",
    "log_statement",
    "log_autovacuum_min_duration",
    "track_io_timing",
    "track_activity_query_size",
    "pg_stat_statements.track",
  ]

  # Instance names allow no underscore; commerce's shard names do.
  instance_names = { for k, d in var.databases : k => coalesce(d.instance_name, "${var.name}-commerce-${replace(k, "_", "-")}") }

  replicas = merge([
    for db, cfg in var.databases : {
      for i in range(cfg.read_replicas) : "${db}-r${i}" => {
        database = db
        index    = i
        tier     = coalesce(cfg.replica_tier, cfg.tier)
      }
    }
  ]...)
}

resource "google_sql_database_instance" "primary" {
  # checkov:skip=CKV_GCP_6:ENCRYPTED_ONLY: every connection is TLS. Client certificates (TRUSTED_CLIENT_CERTIFICATE_REQUIRED) would need a per-task certificate the services cannot present yet; the instance has no public IP and is reached only over the VPN.
  # checkov:skip=CKV_GCP_79:PostgreSQL 15 is the version the test suite and the benchmarks run; a major upgrade is a tested change of var.postgres_version, not a default.
  # checkov:skip=CKV2_GCP_13:log_duration writes one log line per statement (thousands a second at the measured 2,420 orders/s); statement durations are in pg_stat_statements and Query Insights.
  for_each = var.databases

  project             = var.gcp_project
  name                = local.instance_names[each.key]
  region              = var.region
  database_version    = var.postgres_version
  deletion_protection = var.deletion_protection

  settings {
    edition                     = "ENTERPRISE"
    tier                        = each.value.tier
    availability_type           = var.availability_type
    disk_type                   = "PD_SSD"
    disk_size                   = each.value.disk_size_gb
    disk_autoresize             = true
    disk_autoresize_limit       = each.value.disk_autoresize_limit_gb
    deletion_protection_enabled = var.deletion_protection
    user_labels                 = merge(var.labels, { database = replace(each.key, "_", "-"), role = "primary" })

    backup_configuration {
      enabled                        = true
      start_time                     = var.backup_start_time
      location                       = var.region
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = var.transaction_log_retention_days

      backup_retention_settings {
        retained_backups = var.retained_backups
        retention_unit   = "COUNT"
      }
    }

    ip_configuration {
      ipv4_enabled                                  = false
      private_network                               = var.network_id
      allocated_ip_range                            = var.allocated_ip_range
      ssl_mode                                      = "ENCRYPTED_ONLY"
      enable_private_path_for_google_cloud_services = false
    }

    insights_config {
      query_insights_enabled  = true
      query_string_length     = 1024
      record_application_tags = true
      record_client_address   = false
      query_plans_per_minute  = 5
    }

    maintenance_window {
      day          = var.maintenance_window.day
      hour         = var.maintenance_window.hour
      update_track = var.maintenance_window.update_track
    }

    password_validation_policy {
      enable_password_policy      = true
      min_length                  = 32
      disallow_username_substring = true
    }

    # Flags for what we monitor and what an incident needs in the logs, written out (not looped)
    # so that reviewers and checkov read the same thing; a test holds primaries and replicas to
    # the same list. Statement text stays out of the logs (log_min_duration_statement -1, no
    # log_duration): slow statements are found through pg_stat_statements
    # (polygate_commerce_slow_statements) and Query Insights, which keep normalised statements
    # without their parameters (e-mail addresses, say).
    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }

    database_flags {
      name  = "pgaudit.log"
      value = "ddl,role"
    }

    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }

    database_flags {
      name  = "log_connections"
      value = "on"
    }

    database_flags {
      name  = "log_disconnections"
      value = "on"
    }

    database_flags {
      name  = "log_hostname"
      value = "on"
    }

    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }

    database_flags {
      name  = "log_temp_files"
      value = "0"
    }

    database_flags {
      name  = "log_min_messages"
      value = "warning"
    }

    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }

    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }

    database_flags {
      name  = "log_statement"
      value = "ddl"
    }

    database_flags {
      name  = "log_autovacuum_min_duration"
      value = "1000"
    }

    database_flags {
      name  = "track_io_timing"
      value = "on"
    }

    database_flags {
      name  = "track_activity_query_size"
      value = "4096"
    }

    database_flags {
      name  = "pg_stat_statements.track"
      value = "all"
    }

    dynamic "database_flags" {
      for_each = { for k, v in var.extra_database_flags : k => v if !contains(local.module_flags, k) }
      content {
        name  = database_flags.key
        value = database_flags.value
      }
    }
  }
}

resource "google_sql_database_instance" "replica" {
  # checkov:skip=CKV_GCP_6:ENCRYPTED_ONLY: every connection is TLS. Client certificates (TRUSTED_CLIENT_CERTIFICATE_REQUIRED) would need a per-task certificate the services cannot present yet; the instance has no public IP and is reached only over the VPN.
  # checkov:skip=CKV_GCP_79:PostgreSQL 15 is the version the test suite and the benchmarks run; a major upgrade is a tested change of var.postgres_version, not a default.
  # checkov:skip=CKV2_GCP_13:log_duration writes one log line per statement (thousands a second at the measured 2,420 orders/s); statement durations are in pg_stat_statements and Query Insights.
  # checkov:skip=CKV_GCP_14:Cloud SQL read replicas cannot have backups; the primary's daily backups and PITR cover this data.
  for_each = local.replicas

  project              = var.gcp_project
  name                 = "${local.instance_names[each.value.database]}-r${each.value.index}"
  region               = var.region
  database_version     = var.postgres_version
  master_instance_name = google_sql_database_instance.primary[each.value.database].name
  deletion_protection  = var.deletion_protection

  replica_configuration {
    failover_target = false
  }

  settings {
    edition                     = "ENTERPRISE"
    tier                        = each.value.tier
    availability_type           = "ZONAL" # a replica is itself the redundancy; losing it moves reads to the primary.
    disk_type                   = "PD_SSD"
    disk_autoresize             = true
    deletion_protection_enabled = var.deletion_protection
    user_labels                 = merge(var.labels, { database = replace(each.value.database, "_", "-"), role = "replica" })

    backup_configuration {
      enabled = false
    }

    ip_configuration {
      ipv4_enabled       = false
      private_network    = var.network_id
      allocated_ip_range = var.allocated_ip_range
      ssl_mode           = "ENCRYPTED_ONLY"
    }

    insights_config {
      query_insights_enabled  = true
      query_string_length     = 1024
      record_application_tags = true
      record_client_address   = false
    }

    # Flags for what we monitor and what an incident needs in the logs, written out (not looped)
    # so that reviewers and checkov read the same thing; a test holds primaries and replicas to
    # the same list. Statement text stays out of the logs (log_min_duration_statement -1, no
    # log_duration): slow statements are found through pg_stat_statements
    # (polygate_commerce_slow_statements) and Query Insights, which keep normalised statements
    # without their parameters (e-mail addresses, say).
    database_flags {
      name  = "cloudsql.enable_pgaudit"
      value = "on"
    }

    database_flags {
      name  = "pgaudit.log"
      value = "ddl,role"
    }

    database_flags {
      name  = "log_checkpoints"
      value = "on"
    }

    database_flags {
      name  = "log_connections"
      value = "on"
    }

    database_flags {
      name  = "log_disconnections"
      value = "on"
    }

    database_flags {
      name  = "log_hostname"
      value = "on"
    }

    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }

    database_flags {
      name  = "log_temp_files"
      value = "0"
    }

    database_flags {
      name  = "log_min_messages"
      value = "warning"
    }

    database_flags {
      name  = "log_min_error_statement"
      value = "error"
    }

    database_flags {
      name  = "log_min_duration_statement"
      value = "-1"
    }

    database_flags {
      name  = "log_statement"
      value = "ddl"
    }

    database_flags {
      name  = "log_autovacuum_min_duration"
      value = "1000"
    }

    database_flags {
      name  = "track_io_timing"
      value = "on"
    }

    database_flags {
      name  = "track_activity_query_size"
      value = "4096"
    }

    database_flags {
      name  = "pg_stat_statements.track"
      value = "all"
    }

    dynamic "database_flags" {
      for_each = { for k, v in var.extra_database_flags : k => v if !contains(local.module_flags, k) }
      content {
        name  = database_flags.key
        value = database_flags.value
      }
    }
  }
}

resource "google_sql_database" "commerce" {
  for_each = var.databases

  project  = var.gcp_project
  name     = var.database_name
  instance = google_sql_database_instance.primary[each.key].name
}

# One application role per instance; its password is generated here, kept in the encrypted state
# and handed to the service as a Secrets Manager secret (gateway module), never written in code.
resource "random_password" "app" {
  for_each = var.databases

  length  = 40
  special = false # the password goes into a URL.
}

resource "google_sql_user" "app" {
  for_each = var.databases

  project  = var.gcp_project
  instance = google_sql_database_instance.primary[each.key].name
  name     = "polygate"
  password = random_password.app[each.key].result
}
