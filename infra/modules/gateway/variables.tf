variable "name" {
  description = "Prefix of every resource name, e.g. `polygate-prod`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,20}$", var.name))
    error_message = "name must be 3-21 characters of a-z, 0-9 and - (load balancer names allow 32 with suffixes)."
  }
}

variable "vpc_id" {
  description = "VPC the services run in."
  type        = string
}

variable "public_subnet_ids" {
  description = "Subnets of the public load balancer, one per zone."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "A load balancer needs subnets in at least two zones."
  }
}

variable "private_subnet_ids" {
  description = "Subnets of the tasks and of the internal load balancer, one per zone."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "Tasks need subnets in at least two zones."
  }
}

variable "certificate_arn" {
  description = "ACM certificate of the public API host name (issued out of band, DNS-validated)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "internal_domain" {
  description = "Private DNS zone of the subgraph endpoints; the gateway reaches `subgraphs.<internal_domain>:<port>`."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$", var.internal_domain))
    error_message = "internal_domain must be a DNS name, e.g. internal.polygate.example."
  }
}

variable "internal_certificate_arn" {
  description = "ACM certificate for `subgraphs.<internal_domain>` (the internal load balancer's TLS listeners)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws:acm:", var.internal_certificate_arn))
    error_message = "internal_certificate_arn must be an ACM certificate ARN."
  }
}

variable "public_ingress_cidrs" {
  description = "Who may call the public API (443)."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "image_tag" {
  description = "Image tag every service runs (one release = one tag across the gateway and the subgraphs; tags are immutable)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag)) && var.image_tag != "latest"
    error_message = "image_tag must be a valid, immutable tag (not `latest`)."
  }
}

variable "services" {
  description = <<-EOT
    The gateway (the one service with `public = true`) and the subgraph services, by name. Each
    runs `<binary> serve` from the ECR repository `<name>/<service>`, listens on `port`, and
    scales between `min_tasks` and `max_tasks` on CPU and on p99 latency. `environment` is plain
    configuration (POLYGATE_* keys); `secret_names` are environment variables whose values come
    from `secret_values` through Secrets Manager. `egress` lists where the service may connect.
  EOT
  type = map(object({
    binary              = string
    port                = number
    public              = optional(bool, false)
    cpu                 = number
    memory              = number
    min_tasks           = number
    max_tasks           = number
    target_cpu_percent  = optional(number, 60)
    p99_latency_seconds = optional(number, 0.5)
    health_check_path   = optional(string, "/ready")
    calls               = optional(list(string), [])
    environment         = optional(map(string), {})
    secret_names        = optional(list(string), [])
    egress = optional(list(object({
      description = string
      cidr        = string
      from_port   = number
      to_port     = number
    })), [])
  }))

  validation {
    condition     = length([for s in values(var.services) : s if s.public]) == 1
    error_message = "Exactly one service (the gateway) must be public."
  }

  validation {
    condition     = alltrue([for k in keys(var.services) : can(regex("^[a-z][a-z0-9]{1,15}$", k))])
    error_message = "service names must be 2-16 characters of a-z and 0-9 (they become POLYGATE_SUBGRAPHS__<NAME>__URL)."
  }

  validation {
    condition     = alltrue([for s in values(var.services) : s.min_tasks >= 1 && s.max_tasks >= s.min_tasks])
    error_message = "min_tasks must be at least 1 and max_tasks at least min_tasks."
  }

  validation {
    condition     = alltrue([for s in values(var.services) : contains(["/ready", "/health"], s.health_check_path)])
    error_message = "health_check_path must be /ready or /health."
  }

  validation {
    condition     = alltrue([for s in values(var.services) : alltrue([for c in s.calls : contains(keys(var.services), c)])])
    error_message = "calls must name services of this map."
  }

  validation {
    condition     = alltrue([for s in values(var.services) : s.port >= 1024 && s.port <= 65535])
    error_message = "ports must be unprivileged (1024-65535)."
  }
}

variable "secret_values" {
  description = "Values of the secret environment variables, by service then variable name (database URLs with passwords, API keys)."
  type        = map(map(string))
  default     = {}
  sensitive   = true
}

variable "prometheus_remote_write_url" {
  description = "Amazon Managed Service for Prometheus remote-write URL the metrics sidecar sends `/metrics` to (monitoring module)."
  type        = string
}

variable "prometheus_workspace_arn" {
  description = "ARN of that workspace (the tasks may write to it and nothing else)."
  type        = string
}

variable "collector_image" {
  description = "AWS Distro for OpenTelemetry collector image of the metrics sidecar (pinned tag)."
  type        = string
  default     = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
}

variable "task_policy_statements" {
  description = "Extra IAM statements for a service's task role, by service (e.g. `elasticache:Connect` for IAM sign-in to Redis)."
  type = map(list(object({
    actions   = list(string)
    resources = list(string)
  })))
  default = {}
}

variable "ops_tasks" {
  description = "One-off operator task definitions (RUNBOOK.md): a client image (pinned tag) run with one service's network, role, configuration and secrets."
  type = map(object({
    service = string
    image   = string
  }))
  default = {}

  validation {
    condition     = alltrue([for t in values(var.ops_tasks) : can(regex(":[0-9][A-Za-z0-9_.-]*$", t.image))])
    error_message = "ops task images must carry a version tag (not latest, not untagged)."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the images."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "log_retention_days" {
  description = "Days the services' logs (and the WAF's) are kept."
  type        = number
  default     = 365
}

variable "waf_rate_limit_per_5min" {
  description = "Requests one client address may send in five minutes before the WAF blocks it (a coarse wall in front of the gateway's own per-client limits)."
  type        = number
  default     = 30000
}

variable "deletion_protection" {
  description = "Protect the load balancers from deletion."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
