# Task definitions and ECS services: one per entry of var.services.

locals {
  # The metrics sidecar scrapes the task's own /metrics and remote-writes it with SigV4; the ECS
  # resource detector labels every series with the task ARN, so tasks never overwrite each other.
  collector_config = {
    for k, s in var.services : k => yamlencode({
      extensions = { sigv4auth = { region = local.region, service = "aps" } }
      receivers = {
        prometheus = {
          config = {
            global = { scrape_interval = "15s", scrape_timeout = "10s" }
            scrape_configs = [{
              job_name       = "polygate"
              metrics_path   = "/metrics"
              static_configs = [{ targets = ["127.0.0.1:${s.port}"], labels = { service = k } }]
            }]
          }
        }
      }
      processors = {
        "resourcedetection/ecs" = { detectors = ["env", "ecs"], timeout = "2s", override = false }
        batch                   = {}
      }
      exporters = {
        prometheusremotewrite = {
          endpoint                         = var.prometheus_remote_write_url
          auth                             = { authenticator = "sigv4auth" }
          resource_to_telemetry_conversion = { enabled = true }
        }
      }
      service = {
        extensions = ["sigv4auth"]
        pipelines = {
          metrics = {
            receivers  = ["prometheus"]
            processors = ["resourcedetection/ecs", "batch"]
            exporters  = ["prometheusremotewrite"]
          }
        }
      }
    })
  }

  environment = {
    for k, s in var.services : k => merge(
      {
        POLYGATE_LOG_FORMAT       = "json"
        POLYGATE_SERVER__DATA_DIR = "/data"
      },
      local.listen_address[k],
      s.public ? local.subgraph_urls : { for t in s.calls : "POLYGATE_SUBGRAPHS__${upper(t)}__URL" => local.subgraph_urls["POLYGATE_SUBGRAPHS__${upper(t)}__URL"] },
      s.environment,
    )
  }
}

resource "aws_security_group" "service" {
  for_each = var.services

  name        = "${var.name}-${each.key}"
  description = "${each.key} tasks: accept their load balancer on ${each.value.port}; connect only where listed"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Service = each.key })
}

resource "aws_vpc_security_group_ingress_rule" "service_from_lb" {
  for_each = var.services

  security_group_id            = aws_security_group.service[each.key].id
  description                  = "${each.key} from its load balancer"
  referenced_security_group_id = each.value.public ? aws_security_group.public_lb.id : aws_security_group.internal_lb.id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
}

# Every task pulls images and reads secrets over HTTPS (ECR, Secrets Manager, CloudWatch, Prometheus).
resource "aws_vpc_security_group_egress_rule" "service_https" {
  for_each = var.services

  security_group_id = aws_security_group.service[each.key].id
  description       = "AWS APIs over HTTPS (images, secrets, logs, metrics)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "to_subgraphs" {
  for_each = local.callers

  security_group_id            = aws_security_group.service[each.value.caller].id
  description                  = "${each.value.caller} to the ${each.value.target} subgraph through the internal load balancer"
  referenced_security_group_id = aws_security_group.internal_lb.id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
}

resource "aws_vpc_security_group_egress_rule" "service_stores" {
  for_each = merge([
    for k, s in var.services : {
      for i, e in s.egress : "${k}-${i}" => merge(e, { service = k })
    }
  ]...)

  security_group_id = aws_security_group.service[each.value.service].id
  description       = each.value.description
  cidr_ipv4         = each.value.cidr
  ip_protocol       = "tcp"
  from_port         = each.value.from_port
  to_port           = each.value.to_port
}

resource "aws_ecs_task_definition" "this" {
  for_each = var.services

  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task[each.key].arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  # The processes keep nothing on disk (every store is remote); /data exists because the kit
  # creates `server.data_dir` at start, and the root file system is read-only.
  volume {
    name = "data"
  }

  container_definitions = jsonencode([
    {
      name                   = each.key
      image                  = "${aws_ecr_repository.this[each.key].repository_url}:${var.image_tag}"
      command                = ["serve"]
      essential              = true
      readonlyRootFilesystem = true
      portMappings           = [{ containerPort = each.value.port, protocol = "tcp" }]
      environment            = [for n, v in local.environment[each.key] : { name = n, value = v }]
      secrets = [
        for n in each.value.secret_names : {
          name      = n
          valueFrom = "${aws_secretsmanager_secret.service[each.key].arn}:${n}::"
        }
      ]
      mountPoints = [{ sourceVolume = "data", containerPath = "/data", readOnly = false }]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.service[each.key].name
          awslogs-region        = local.region
          awslogs-stream-prefix = each.key
        }
      }
      stopTimeout = 30 # drain in-flight requests; the load balancer deregisters first.
    },
    {
      name                   = "metrics"
      image                  = var.collector_image
      essential              = false # losing metrics must not take the service down.
      readonlyRootFilesystem = true
      environment            = [{ name = "AOT_CONFIG_CONTENT", value = local.collector_config[each.key] }]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.service[each.key].name
          awslogs-region        = local.region
          awslogs-stream-prefix = "metrics"
        }
      }
    },
  ])

  tags = merge(var.tags, { Service = each.key })

  depends_on = [aws_secretsmanager_secret_version.service]
}

resource "aws_ecs_service" "this" {
  for_each = var.services

  name                              = each.key
  cluster                           = aws_ecs_cluster.this.id
  task_definition                   = aws_ecs_task_definition.this[each.key].arn
  desired_count                     = each.value.min_tasks
  launch_type                       = "FARGATE"
  platform_version                  = "LATEST"
  propagate_tags                    = "SERVICE"
  enable_execute_command            = false
  health_check_grace_period_seconds = 60

  # Rolling deploy: new tasks start beside the old ones (200 %), old ones stop only when the new
  # are healthy (100 %), and a deploy whose tasks never turn healthy rolls back by itself.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.service[each.key].id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.service[each.key].arn
    container_name   = each.key
    container_port   = each.value.port
  }

  tags = merge(var.tags, { Service = each.key })

  lifecycle {
    ignore_changes = [desired_count] # auto scaling owns it after creation.
  }

  depends_on = [aws_lb_listener.public, aws_lb_listener.internal]
}
