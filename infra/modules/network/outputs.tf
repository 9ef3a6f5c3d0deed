output "aws_vpc_id" {
  description = "ID of the AWS VPC."
  value       = aws_vpc.this.id
}

output "aws_vpc_cidr" {
  description = "CIDR of the AWS VPC (what the Cloud SQL side sees connections come from)."
  value       = aws_vpc.this.cidr_block
}

output "aws_public_subnet_ids" {
  description = "Public subnets, one per zone: load balancers and NAT gateways."
  value       = aws_subnet.public[*].id
}

output "aws_private_subnet_ids" {
  description = "Private subnets, one per zone: ECS tasks and interface endpoints. They reach the internet through NAT and Cloud SQL through the VPN."
  value       = aws_subnet.private[*].id
}

output "aws_data_subnet_ids" {
  description = "Data subnets, one per zone, without any route out: ElastiCache."
  value       = aws_subnet.data[*].id
}

output "aws_private_route_table_ids" {
  description = "Route tables of the private subnets (for peering routes, e.g. to Timescale Cloud)."
  value       = aws_route_table.private[*].id
}

output "aws_nat_public_ips" {
  description = "Addresses the tasks' outbound traffic leaves from: allow-list them where a store offers only IP filtering (Qdrant Cloud)."
  value       = aws_eip.nat[*].public_ip
}

output "gcp_network_id" {
  description = "ID of the GCP VPC, the `private_network` of every Cloud SQL instance."
  value       = google_compute_network.this.id
}

output "gcp_private_services_range_name" {
  description = "Name of the allocated private services range (Cloud SQL `allocated_ip_range`)."
  value       = google_compute_global_address.private_services.name
}

output "gcp_private_services_connection" {
  description = "The private services connection; Cloud SQL instances must be created after it."
  value       = google_service_networking_connection.private_services.id
}

output "aws_vpn_connection_ids" {
  description = "The two AWS site-to-site VPN connections (CloudWatch `AWS/VPN` `TunnelState` alarms watch them)."
  value       = aws_vpn_connection.gcp[*].id
}

output "gcp_vpn_tunnel_names" {
  description = "The four GCP VPN tunnels."
  value       = google_compute_vpn_tunnel.aws[*].name
}
