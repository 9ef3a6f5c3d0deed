# One-off operator tasks (RUNBOOK.md): a client image run with one service's network, task role,
# configuration and secrets, so `psql "$POLYGATE_SUBGRAPHS__COMMERCE__STORE"` or mongosh with
# the catalog's IAM role reaches the store exactly as the service does, and nobody needs a
# bastion, a public endpoint or a copy of a password. Started with `aws ecs run-task` and a
# command override; output goes to the service's log group under the `ops-` prefix.

resource "aws_ecs_task_definition" "ops" {
  for_each = var.ops_tasks

  family                   = "${var.name}-ops-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task[each.value.service].arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  volume {
    name = "scratch"
  }

  container_definitions = jsonencode([{
    name                   = "ops"
    image                  = each.value.image
    command                = ["sh", "-c", "echo 'override the command: RUNBOOK.md'"]
    essential              = true
    readonlyRootFilesystem = true
    environment            = [for n, v in local.environment[each.value.service] : { name = n, value = v } if !startswith(n, "POLYGATE_SERVER__")]
    secrets = [
      for n in var.services[each.value.service].secret_names : {
        name      = n
        valueFrom = "${aws_secretsmanager_secret.service[each.value.service].arn}:${n}::"
      }
    ]
    mountPoints = [{ sourceVolume = "scratch", containerPath = "/tmp", readOnly = false }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.service[each.value.service].name
        awslogs-region        = local.region
        awslogs-stream-prefix = "ops-${each.key}"
      }
    }
  }])

  tags = merge(var.tags, { Service = each.value.service, Purpose = "operator one-off" })

  lifecycle {
    precondition {
      condition     = contains(keys(var.services), each.value.service)
      error_message = "ops task ${each.key} names a service that does not exist."
    }
  }
}
