# Load balancers: a public one for the gateway (HTTPS only, WAF, access logs) and an internal
# one for the subgraphs (HTTPS, one listener per subgraph port, a private DNS name).

resource "aws_security_group" "public_lb" {
  name        = "${var.name}-public-lb"
  description = "Public load balancer: HTTPS from clients, to the gateway tasks"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "public_lb_https" {
  for_each = toset(var.public_ingress_cidrs)

  security_group_id = aws_security_group.public_lb.id
  description       = "HTTPS from API clients"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "public_lb_to_gateway" {
  security_group_id            = aws_security_group.public_lb.id
  description                  = "to the gateway tasks"
  referenced_security_group_id = aws_security_group.service[local.gateway].id
  ip_protocol                  = "tcp"
  from_port                    = var.services[local.gateway].port
  to_port                      = var.services[local.gateway].port
}

resource "aws_security_group" "internal_lb" {
  name        = "${var.name}-internal-lb"
  description = "Internal load balancer: HTTPS from the gateway (and services that call a sibling), to the subgraph tasks"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "internal_lb_from_callers" {
  for_each = local.callers

  security_group_id            = aws_security_group.internal_lb.id
  description                  = "${each.value.target} subgraph calls from ${each.value.caller}"
  referenced_security_group_id = aws_security_group.service[each.value.caller].id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
}

resource "aws_vpc_security_group_egress_rule" "internal_lb_to_subgraphs" {
  for_each = local.subgraphs

  security_group_id            = aws_security_group.internal_lb.id
  description                  = "to the ${each.key} tasks"
  referenced_security_group_id = aws_security_group.service[each.key].id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
}

# --- Access logs. ---

resource "aws_s3_bucket" "lb_logs" {
  # checkov:skip=CKV_AWS_145:Load balancer access logs can only be delivered to buckets encrypted with SSE-S3 (AES256), not SSE-KMS.
  # checkov:skip=CKV_AWS_144:Access logs are operational data kept one year; a second region's copy is not worth its cost.
  # checkov:skip=CKV_AWS_18:This is the log bucket; logging its own access would need another bucket, and so on.
  # checkov:skip=CKV2_AWS_62:Nothing consumes events of the log bucket.
  bucket_prefix = "${var.name}-lb-logs-"
  force_destroy = false
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "lb_logs" {
  bucket                  = aws_s3_bucket.lb_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "lb_logs" {
  bucket = aws_s3_bucket.lb_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lb_logs" {
  bucket = aws_s3_bucket.lb_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "lb_logs" {
  bucket = aws_s3_bucket.lb_logs.id

  rule {
    id     = "expire-after-a-year"
    status = "Enabled"
    filter {}
    expiration {
      days = 365
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "lb_logs" {
  statement {
    sid       = "LoadBalancerDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.lb_logs.arn}/*"]
    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid       = "TLSOnly"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.lb_logs.arn, "${aws_s3_bucket.lb_logs.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "lb_logs" {
  bucket = aws_s3_bucket.lb_logs.id
  policy = data.aws_iam_policy_document.lb_logs.json
}

# --- Public load balancer: the gateway. ---

resource "aws_lb" "public" {
  name                       = "${var.name}-public"
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = [aws_security_group.public_lb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  idle_timeout               = 60
  desync_mitigation_mode     = "strictest"

  access_logs {
    bucket  = aws_s3_bucket.lb_logs.id
    prefix  = "public"
    enabled = true
  }

  tags = var.tags

  depends_on = [aws_s3_bucket_policy.lb_logs]
}

resource "aws_lb_target_group" "service" {
  for_each = var.services

  name                 = substr("${var.name}-${each.key}", 0, 32)
  port                 = each.value.port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = var.vpc_id
  deregistration_delay = 30

  health_check {
    path                = each.value.health_check_path
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = merge(var.tags, { Service = each.key })
}

resource "aws_lb_listener" "public" {
  load_balancer_arn = aws_lb.public.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.service[local.gateway].arn
  }

  tags = var.tags
}

# --- Internal load balancer: the subgraphs, one TLS listener per subgraph port. ---

resource "aws_lb" "internal" {
  name                       = "${var.name}-internal"
  load_balancer_type         = "application"
  internal                   = true
  subnets                    = var.private_subnet_ids
  security_groups            = [aws_security_group.internal_lb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  idle_timeout               = 60
  desync_mitigation_mode     = "strictest"

  access_logs {
    bucket  = aws_s3_bucket.lb_logs.id
    prefix  = "internal"
    enabled = true
  }

  tags = var.tags

  depends_on = [aws_s3_bucket_policy.lb_logs]
}

resource "aws_lb_listener" "internal" {
  for_each = local.subgraphs

  load_balancer_arn = aws_lb.internal.arn
  port              = each.value.port
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.internal_certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.service[each.key].arn
  }

  tags = var.tags
}

resource "aws_route53_zone" "internal" {
  # checkov:skip=CKV2_AWS_38:DNSSEC signing is for public zones; Route 53 does not sign private hosted zones.
  # checkov:skip=CKV2_AWS_39:Query logging is only available for public hosted zones (private zones log through Resolver query logging).
  name    = var.internal_domain
  comment = "${var.name}: subgraph endpoints"

  vpc {
    vpc_id = var.vpc_id
  }

  tags = var.tags
}

resource "aws_route53_record" "subgraphs" {
  zone_id = aws_route53_zone.internal.zone_id
  name    = local.internal_host
  type    = "A"

  alias {
    name                   = aws_lb.internal.dns_name
    zone_id                = aws_lb.internal.zone_id
    evaluate_target_health = true
  }
}

# --- WAF on the public load balancer. ---

resource "aws_cloudwatch_log_group" "waf" {
  name              = "aws-waf-logs-${var.name}" # WAF requires this prefix.
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = var.tags
}

resource "aws_wafv2_web_acl" "public" {
  name        = "${var.name}-public"
  description = "polygate public API: AWS managed protections and a per-address rate ceiling"
  scope       = "REGIONAL"

  default_action {
    allow {}
  }

  rule {
    name     = "aws-common"
    priority = 10
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesCommonRuleSet"
        # GraphQL requests are POST bodies up to limits.max_body_bytes (1 MiB); the rule set's
        # 8 KiB body limit would block ordinary queries with long selection sets.
        rule_action_override {
          name = "SizeRestrictions_BODY"
          action_to_use {
            count {}
          }
        }
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-aws-common"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "aws-known-bad-inputs"
    priority = 20
    override_action {
      none {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesKnownBadInputsRuleSet"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-known-bad-inputs"
      sampled_requests_enabled   = true
    }
  }

  # Anonymising proxies and hosting providers: counted, not blocked, until a week of WAF logs
  # shows what blocking would cost legitimate API clients (many run in clouds).
  rule {
    name     = "aws-anonymous-ip"
    priority = 25
    override_action {
      count {}
    }
    statement {
      managed_rule_group_statement {
        vendor_name = "AWS"
        name        = "AWSManagedRulesAnonymousIpList"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-anonymous-ip"
      sampled_requests_enabled   = true
    }
  }

  rule {
    name     = "per-address-ceiling"
    priority = 30
    action {
      block {}
    }
    statement {
      rate_based_statement {
        limit              = var.waf_rate_limit_per_5min
        aggregate_key_type = "IP"
      }
    }
    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "${var.name}-per-address-ceiling"
      sampled_requests_enabled   = true
    }
  }

  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "${var.name}-public"
    sampled_requests_enabled   = true
  }

  tags = var.tags
}

resource "aws_wafv2_web_acl_association" "public" {
  resource_arn = aws_lb.public.arn
  web_acl_arn  = aws_wafv2_web_acl.public.arn
}

resource "aws_wafv2_web_acl_logging_configuration" "public" {
  resource_arn            = aws_wafv2_web_acl.public.arn
  log_destination_configs = [aws_cloudwatch_log_group.waf.arn]
}
