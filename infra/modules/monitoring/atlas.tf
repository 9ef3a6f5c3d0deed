# Atlas alert configurations for the catalog cluster.

locals {
  atlas_metric_alerts = {
    cpu = {
      metric    = "NORMALIZED_SYSTEM_CPU_USER"
      threshold = var.thresholds.atlas_cpu_percent
      units     = "RAW"
    }
    disk = {
      metric    = "DISK_PARTITION_SPACE_USED_DATA"
      threshold = var.thresholds.atlas_disk_percent
      units     = "RAW"
    }
    connections = {
      metric    = "CONNECTIONS_PERCENT"
      threshold = var.thresholds.atlas_connections_percent
      units     = "RAW"
    }
    replication_lag = {
      metric    = "OPLOG_SLAVE_LAG_MASTER_TIME"
      threshold = var.thresholds.atlas_replication_lag_s
      units     = "SECONDS"
    }
  }

  atlas_event_alerts = ["NO_PRIMARY", "CLUSTER_MONGOS_IS_MISSING", "CPS_SNAPSHOT_BEHIND"]
}

resource "mongodbatlas_alert_configuration" "metric" {
  for_each = local.atlas_metric_alerts

  project_id = var.atlas.project_id
  event_type = "OUTSIDE_METRIC_THRESHOLD"
  enabled    = true

  matcher {
    field_name = "CLUSTER_NAME"
    operator   = "EQUALS"
    value      = var.atlas.cluster_name
  }

  metric_threshold_config {
    metric_name = each.value.metric
    operator    = "GREATER_THAN"
    threshold   = each.value.threshold
    units       = each.value.units
    mode        = "AVERAGE"
  }

  dynamic "notification" {
    for_each = var.alert_emails
    content {
      type_name     = "EMAIL"
      email_address = notification.value
      interval_min  = 60
      delay_min     = 5
    }
  }
}

resource "mongodbatlas_alert_configuration" "event" {
  for_each = toset(local.atlas_event_alerts)

  project_id = var.atlas.project_id
  event_type = each.value
  enabled    = true

  dynamic "notification" {
    for_each = var.alert_emails
    content {
      type_name     = "EMAIL"
      email_address = notification.value
      interval_min  = 60
      delay_min     = 0
    }
  }
}

resource "mongodbatlas_alert_configuration" "oplog_window" {
  project_id = var.atlas.project_id
  event_type = "REPLICATION_OPLOG_WINDOW_RUNNING_OUT"
  enabled    = true

  matcher {
    field_name = "CLUSTER_NAME"
    operator   = "EQUALS"
    value      = var.atlas.cluster_name
  }

  # Less than a day of oplog: a secondary that falls further behind needs a full resync.
  threshold_config {
    operator  = "LESS_THAN"
    threshold = 24
    units     = "HOURS"
  }

  dynamic "notification" {
    for_each = var.alert_emails
    content {
      type_name     = "EMAIL"
      email_address = notification.value
      interval_min  = 60
      delay_min     = 0
    }
  }
}
