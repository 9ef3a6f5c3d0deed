# Alerts for every store and for the services, as code, in the tool each cloud provides:
# CloudWatch alarms (ElastiCache, load balancers, ECS, the VPN), Cloud Monitoring alert policies
# (Cloud SQL), Atlas alert configurations (MongoDB), and Prometheus alerting rules evaluated by
# Amazon Managed Service for Prometheus over the /metrics of every task (gateway and subgraphs:
# error rate, p99, STORE_UNAVAILABLE, cache hit ratio, batch sizes, and the client-side view of
# Aura, Timescale and Qdrant). Every AWS alarm and the Prometheus alert manager notify one SNS
# topic; Cloud Monitoring and Atlas send e-mail to the same people.
#
# Non-obvious: ElastiCache publishes per-node metrics only, and auto scaling adds and removes
# nodes, so an alarm exists for every node id the cluster can have at its largest
# (`<group>-<shard 0001..>-<node 001..>`); ids that do not exist yet report no data and stay OK.

data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

resource "aws_kms_key" "alerts" {
  description             = "${var.name}: alert topic"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.alerts_key.json
  tags                    = var.tags
}

data "aws_iam_policy_document" "alerts_key" {
  # checkov:skip=CKV_AWS_109:A key policy: "*" is this key, and the account-root statement is what keeps the key manageable at all (AWS's default key policy).
  # checkov:skip=CKV_AWS_111:A key policy: "*" is this key, and the account-root statement is what keeps the key manageable at all (AWS's default key policy).
  # checkov:skip=CKV_AWS_356:A key policy: "*" is this key, and the account-root statement is what keeps the key manageable at all (AWS's default key policy).
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "AlarmSourcesPublish"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "aps.amazonaws.com", "elasticache.amazonaws.com"]
    }
  }
}

resource "aws_sns_topic" "alerts" {
  name              = "${var.name}-alerts"
  kms_master_key_id = aws_kms_key.alerts.arn
  tags              = var.tags
}

data "aws_iam_policy_document" "alerts_topic" {
  statement {
    sid       = "AlarmSourcesPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "aps.amazonaws.com", "elasticache.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.alerts_topic.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alert_emails)
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = each.value
}

# --- Managed Prometheus: the tasks' /metrics, our alerting rules, alerts to SNS. ---

resource "aws_cloudwatch_log_group" "prometheus" {
  name              = "/${var.name}/prometheus"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.alerts.arn
  tags              = var.tags
}

resource "aws_prometheus_workspace" "this" {
  alias       = var.name
  kms_key_arn = aws_kms_key.alerts.arn

  logging_configuration {
    log_group_arn = "${aws_cloudwatch_log_group.prometheus.arn}:*"
  }

  tags = var.tags
}

resource "aws_prometheus_rule_group_namespace" "this" {
  for_each = var.prometheus_rule_files

  name         = each.key
  workspace_id = aws_prometheus_workspace.this.id
  data         = each.value
}

resource "aws_prometheus_alert_manager_definition" "this" {
  workspace_id = aws_prometheus_workspace.this.id
  definition = yamlencode({
    alertmanager_config = yamlencode({
      route = {
        receiver        = "sns"
        group_by        = ["alertname", "subgraph"]
        group_wait      = "30s"
        group_interval  = "5m"
        repeat_interval = "4h"
      }
      receivers = [{
        name = "sns"
        sns_configs = [{
          topic_arn  = aws_sns_topic.alerts.arn
          sigv4      = { region = data.aws_region.current.region }
          attributes = { source = "prometheus" }
        }]
      }]
    })
  })
}
