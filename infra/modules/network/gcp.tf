# GCP side: a VPC that exists to give Cloud SQL a private IP and to terminate the VPN.
# Nothing of ours runs in it, so it has no subnets: private services access needs none.

resource "google_compute_network" "this" {
  project                 = var.gcp_project
  name                    = var.name
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
}

resource "google_compute_global_address" "private_services" {
  project       = var.gcp_project
  name          = "${var.name}-private-services"
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  address       = split("/", var.gcp_private_services_cidr)[0]
  prefix_length = tonumber(split("/", var.gcp_private_services_cidr)[1])
  network       = google_compute_network.this.id
}

resource "google_service_networking_connection" "private_services" {
  network                 = google_compute_network.this.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]
}

# The peering to Google's service VPC must carry the routes BGP learned from AWS, or Cloud SQL
# answers the AWS tasks into a void.
resource "google_compute_network_peering_routes_config" "private_services" {
  project = var.gcp_project
  peering = google_service_networking_connection.private_services.peering
  network = google_compute_network.this.name

  import_custom_routes = false
  export_custom_routes = true
}

# Nothing of ours listens in this network (Cloud SQL sits in Google's peered network, behind its
# own rules), so nothing may come in: an explicit, logged deny instead of the implied one.
resource "google_compute_firewall" "deny_all_ingress" {
  project   = var.gcp_project
  name      = "${var.name}-deny-all-ingress"
  network   = google_compute_network.this.name
  direction = "INGRESS"
  priority  = 65534

  deny {
    protocol = "all"
  }

  source_ranges = ["0.0.0.0/0"]

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}
