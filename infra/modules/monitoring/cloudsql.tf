# Cloud Monitoring alert policies for the Cloud SQL instances: CPU, disk, replica lag,
# connections, and an instance that stops answering.

resource "google_monitoring_notification_channel" "email" {
  for_each = toset(var.alert_emails)

  project      = var.cloudsql.project
  display_name = "${var.name} alerts: ${each.value}"
  type         = "email"
  labels = {
    email_address = each.value
  }
}

locals {
  # database_id is "<project>:<instance>"; one regular expression covers all our instances.
  cloudsql_all      = join("|", concat(var.cloudsql.primaries, var.cloudsql.replicas))
  cloudsql_replicas = join("|", length(var.cloudsql.replicas) > 0 ? var.cloudsql.replicas : ["no-replica"])
  cloudsql_filter   = "resource.type = \"cloudsql_database\" AND resource.labels.database_id = monitoring.regex.full_match(\"${var.cloudsql.project}:(${local.cloudsql_all})\")"

  cloudsql_policies = {
    cpu = {
      display   = "CPU above ${var.thresholds.cloudsql_cpu_ratio * 100}% for 10 minutes"
      metric    = "cloudsql.googleapis.com/database/cpu/utilization"
      filter    = local.cloudsql_filter
      threshold = var.thresholds.cloudsql_cpu_ratio
      duration  = "600s"
      aligner   = "ALIGN_MEAN"
      doc       = "Commerce's PostgreSQL is CPU-bound under load (subgraphs/commerce/README.md, where placeOrder's time goes). Check Query Insights for a new expensive statement; otherwise raise the tier (infra/modules/cloudsql/README.md, sizing) or move logical shards to a new database (RUNBOOK.md)."
    }
    disk = {
      display   = "disk above ${var.thresholds.cloudsql_disk_ratio * 100}%"
      metric    = "cloudsql.googleapis.com/database/disk/utilization"
      filter    = local.cloudsql_filter
      threshold = var.thresholds.cloudsql_disk_ratio
      duration  = "300s"
      aligner   = "ALIGN_MAX"
      doc       = "Disk grows by itself up to disk_autoresize_limit_gb; near the limit, raise it or archive detached order partitions (subgraphs/commerce/README.md, Partitioning)."
    }
    replica_lag = {
      display   = "replica more than ${var.thresholds.cloudsql_replica_lag_s}s behind"
      metric    = "cloudsql.googleapis.com/database/replication/replica_lag"
      filter    = "resource.type = \"cloudsql_database\" AND resource.labels.database_id = monitoring.regex.full_match(\"${var.cloudsql.project}:(${local.cloudsql_replicas})\")"
      threshold = var.thresholds.cloudsql_replica_lag_s
      duration  = "300s"
      aligner   = "ALIGN_MAX"
      doc       = "Order history reads from the replica; while it lags, users who just ordered are served by the primary (read-your-writes), everyone else sees older orders. Look for long queries on the replica or a write burst on the primary."
    }
    connections = {
      display   = "more than ${var.thresholds.cloudsql_connections} connections"
      metric    = "cloudsql.googleapis.com/database/postgresql/num_backends"
      filter    = local.cloudsql_filter
      threshold = var.thresholds.cloudsql_connections
      duration  = "300s"
      aligner   = "ALIGN_MAX"
      doc       = "Each commerce task holds a bounded pool per database; more backends than tasks x pool size means a leak or many more tasks than planned (check the commerce service's task count)."
    }
  }
}

resource "google_monitoring_alert_policy" "cloudsql" {
  for_each = local.cloudsql_policies

  project      = var.cloudsql.project
  display_name = "${var.name} Cloud SQL: ${each.value.display}"
  combiner     = "OR"
  severity     = "WARNING"

  conditions {
    display_name = each.value.display
    condition_threshold {
      filter          = "metric.type = \"${each.value.metric}\" AND ${each.value.filter}"
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = each.value.duration
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = each.value.aligner
      }
      trigger {
        count = 1
      }
    }
  }

  documentation {
    content   = each.value.doc
    mime_type = "text/markdown"
  }

  notification_channels = [for c in google_monitoring_notification_channel.email : c.id]
}

resource "google_monitoring_alert_policy" "cloudsql_down" {
  project      = var.cloudsql.project
  display_name = "${var.name} Cloud SQL: instance down"
  combiner     = "OR"
  severity     = "CRITICAL"

  conditions {
    display_name = "database/up below 1 for 3 minutes"
    condition_threshold {
      filter          = "metric.type = \"cloudsql.googleapis.com/database/up\" AND ${local.cloudsql_filter}"
      comparison      = "COMPARISON_LT"
      threshold_value = 1
      duration        = "180s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MIN"
      }
      trigger {
        count = 1
      }
    }
  }

  documentation {
    content   = "A regional instance fails over to its standby by itself (about a minute); an instance down longer is an incident: RUNBOOK.md, Cloud SQL."
    mime_type = "text/markdown"
  }

  notification_channels = [for c in google_monitoring_notification_channel.email : c.id]
}
