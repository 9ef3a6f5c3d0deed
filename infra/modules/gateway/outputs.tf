output "cluster_name" {
  description = "ECS cluster name (`ClusterName` dimension of the service alarms)."
  value       = aws_ecs_cluster.this.name
}

output "public_lb_dns_name" {
  description = "DNS name of the public load balancer: point the API host name (the certificate's) at it."
  value       = aws_lb.public.dns_name
}

output "public_lb_arn_suffix" {
  description = "`LoadBalancer` dimension of the public load balancer's CloudWatch metrics."
  value       = aws_lb.public.arn_suffix
}

output "internal_lb_arn_suffix" {
  description = "`LoadBalancer` dimension of the internal load balancer's CloudWatch metrics."
  value       = aws_lb.internal.arn_suffix
}

output "target_group_arn_suffixes" {
  description = "`TargetGroup` dimension per service."
  value       = { for k, tg in aws_lb_target_group.service : k => tg.arn_suffix }
}

output "service_security_group_ids" {
  description = "Security group of each service's tasks (stores allow these)."
  value       = { for k, sg in aws_security_group.service : k => sg.id }
}

output "task_role_arns" {
  description = "Task role of each service (Atlas signs the catalog service in by its role)."
  value       = { for k, r in aws_iam_role.task : k => r.arn }
}

output "repository_urls" {
  description = "ECR repository per service: CI pushes `<url>:<tag>` and applies with `image_tag = <tag>`."
  value       = { for k, r in aws_ecr_repository.this : k => r.repository_url }
}

output "subgraph_urls" {
  description = "The GraphQL URL the gateway uses for each subgraph."
  value       = { for k, s in local.subgraphs : k => "https://${local.internal_host}:${s.port}/graphql" }
}

output "ops_task_definitions" {
  description = "Family of each one-off operator task (`aws ecs run-task --task-definition <family>`, RUNBOOK.md)."
  value       = { for k, t in aws_ecs_task_definition.ops : k => t.family }
}

output "private_subnet_ids" {
  description = "Subnets to run one-off tasks in (the same as the services')."
  value       = var.private_subnet_ids
}
