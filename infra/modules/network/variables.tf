variable "name" {
  description = "Prefix of every resource name, e.g. `polygate-prod`."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 characters of a-z, 0-9 and -, starting with a letter (it becomes part of AWS and GCP resource names)."
  }
}

variable "aws_vpc_cidr" {
  description = "CIDR of the AWS VPC that runs the gateway, the subgraph services and ElastiCache. Must not overlap `gcp_private_services_cidr`."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.aws_vpc_cidr, 0)) && tonumber(split("/", var.aws_vpc_cidr)[1]) <= 20
    error_message = "aws_vpc_cidr must be an IPv4 CIDR of /20 or larger (nine /24 subnets are carved from it)."
  }
}

variable "availability_zones" {
  description = "Zones the VPC spans, by name, fixed (a list that grows by itself when AWS adds a zone would move subnets). ElastiCache Multi-AZ and the load balancers need at least 2; 3 survive a zone loss with room to spare."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 3 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must name 2 or 3 distinct zones."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper, staging) instead of one per zone (prod: a zone outage does not cut the other zones' egress)."
  type        = bool
  default     = false
}

variable "flow_log_retention_days" {
  description = "Days the VPC flow logs are kept in CloudWatch Logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, ..., 365, 400, ...)."
  }
}

variable "gcp_project" {
  description = "GCP project that holds the Cloud SQL network."
  type        = string
}

variable "gcp_region" {
  description = "GCP region of Cloud SQL and of the HA VPN gateway (same metro as the AWS region, see infra/README.md)."
  type        = string
}

variable "gcp_private_services_cidr" {
  description = "Range reserved for Google-managed services (Cloud SQL private IPs) through private services access; advertised to AWS over the VPN."
  type        = string
  default     = "10.60.0.0/16"

  validation {
    condition     = can(cidrhost(var.gcp_private_services_cidr, 0)) && tonumber(split("/", var.gcp_private_services_cidr)[1]) <= 20
    error_message = "gcp_private_services_cidr must be an IPv4 CIDR of /20 or larger (Cloud SQL needs a /24 per region and instance family)."
  }
}

variable "gcp_router_asn" {
  description = "Private BGP ASN of the GCP Cloud Router."
  type        = number
  default     = 65010

  validation {
    condition     = var.gcp_router_asn >= 64512 && var.gcp_router_asn <= 65534
    error_message = "gcp_router_asn must be a 16-bit private ASN (64512-65534)."
  }
}

variable "aws_vpn_asn" {
  description = "Private BGP ASN of the AWS virtual private gateway."
  type        = number
  default     = 64512

  validation {
    condition     = var.aws_vpn_asn >= 64512 && var.aws_vpn_asn <= 65534
    error_message = "aws_vpn_asn must be a 16-bit private ASN (64512-65534); keep it different from gcp_router_asn."
  }
}

variable "vpn_inside_cidrs" {
  description = "Four /30 link-local ranges for the four BGP sessions of the HA VPN (169.254.0.0/16, not the reserved ones AWS refuses)."
  type        = list(string)
  default     = ["169.254.10.0/30", "169.254.10.4/30", "169.254.10.8/30", "169.254.10.12/30"]

  validation {
    condition     = length(var.vpn_inside_cidrs) == 4 && alltrue([for c in var.vpn_inside_cidrs : can(regex("^169\\.254\\.[0-9]+\\.[0-9]+/30$", c))])
    error_message = "vpn_inside_cidrs must be four 169.254.x.y/30 ranges."
  }
}

variable "tags" {
  description = "Tags added to every AWS resource (the environment's default tags come from the provider)."
  type        = map(string)
  default     = {}
}
