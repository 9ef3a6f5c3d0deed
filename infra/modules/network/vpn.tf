# HA VPN between GCP and AWS, the topology Google documents for AWS peers: one HA VPN gateway
# (two interfaces), two AWS site-to-site connections (two tunnels each), four BGP sessions.
# Either cloud can lose a tunnel endpoint, or a whole interface, and traffic keeps flowing.
#
# The pre-shared keys are generated here and live only in the (encrypted) state and in the two
# clouds' VPN configuration, never in code.

resource "google_compute_ha_vpn_gateway" "this" {
  project = var.gcp_project
  region  = var.gcp_region
  name    = "${var.name}-to-aws"
  network = google_compute_network.this.id
}

resource "google_compute_router" "this" {
  project = var.gcp_project
  region  = var.gcp_region
  name    = "${var.name}-to-aws"
  network = google_compute_network.this.id

  bgp {
    asn               = var.gcp_router_asn
    advertise_mode    = "CUSTOM"
    advertised_groups = ["ALL_SUBNETS"]
    # Cloud SQL's private IPs sit in the peered range, which ALL_SUBNETS does not include.
    advertised_ip_ranges {
      range       = var.gcp_private_services_cidr
      description = "private services access (Cloud SQL)"
    }
  }
}

resource "aws_vpn_gateway" "this" {
  vpc_id          = aws_vpc.this.id
  amazon_side_asn = var.aws_vpn_asn
  tags            = merge(var.tags, { Name = "${var.name}-to-gcp" })
}

# Routes learned over BGP (the Cloud SQL range) appear in the private route tables by themselves.
resource "aws_vpn_gateway_route_propagation" "private" {
  count          = length(local.azs)
  vpn_gateway_id = aws_vpn_gateway.this.id
  route_table_id = aws_route_table.private[count.index].id
}

resource "aws_customer_gateway" "gcp" {
  count      = 2
  bgp_asn    = var.gcp_router_asn
  ip_address = google_compute_ha_vpn_gateway.this.vpn_interfaces[count.index].ip_address
  type       = "ipsec.1"
  tags       = merge(var.tags, { Name = "${var.name}-gcp-interface-${count.index}" })
}

resource "random_password" "vpn_psk" {
  count   = 4
  length  = 48
  special = false # AWS accepts letters, digits, '.' and '_' only.
}

resource "aws_vpn_connection" "gcp" {
  count               = 2
  vpn_gateway_id      = aws_vpn_gateway.this.id
  customer_gateway_id = aws_customer_gateway.gcp[count.index].id
  type                = "ipsec.1"
  static_routes_only  = false

  tunnel1_inside_cidr   = var.vpn_inside_cidrs[count.index * 2]
  tunnel2_inside_cidr   = var.vpn_inside_cidrs[count.index * 2 + 1]
  tunnel1_preshared_key = random_password.vpn_psk[count.index * 2].result
  tunnel2_preshared_key = random_password.vpn_psk[count.index * 2 + 1].result

  tunnel1_ike_versions                 = ["ikev2"]
  tunnel2_ike_versions                 = ["ikev2"]
  tunnel1_phase1_encryption_algorithms = ["AES256"]
  tunnel2_phase1_encryption_algorithms = ["AES256"]
  tunnel1_phase2_encryption_algorithms = ["AES256"]
  tunnel2_phase2_encryption_algorithms = ["AES256"]
  tunnel1_phase1_integrity_algorithms  = ["SHA2-256"]
  tunnel2_phase1_integrity_algorithms  = ["SHA2-256"]
  tunnel1_phase2_integrity_algorithms  = ["SHA2-256"]
  tunnel2_phase2_integrity_algorithms  = ["SHA2-256"]
  tunnel1_phase1_dh_group_numbers      = [14]
  tunnel2_phase1_dh_group_numbers      = [14]
  tunnel1_phase2_dh_group_numbers      = [14]
  tunnel2_phase2_dh_group_numbers      = [14]

  tags = merge(var.tags, { Name = "${var.name}-to-gcp-${count.index}" })
}

locals {
  # The four AWS tunnel endpoints, in the order GCP's external gateway numbers its interfaces.
  aws_tunnels = flatten([
    for c in aws_vpn_connection.gcp : [
      { address = c.tunnel1_address, cgw_inside = c.tunnel1_cgw_inside_address, vgw_inside = c.tunnel1_vgw_inside_address },
      { address = c.tunnel2_address, cgw_inside = c.tunnel2_cgw_inside_address, vgw_inside = c.tunnel2_vgw_inside_address },
    ]
  ])
  tunnel_psks = [for p in random_password.vpn_psk : p.result]
}

resource "google_compute_external_vpn_gateway" "aws" {
  project         = var.gcp_project
  name            = "${var.name}-aws"
  redundancy_type = "FOUR_IPS_REDUNDANCY"

  dynamic "interface" {
    for_each = local.aws_tunnels
    content {
      id         = interface.key
      ip_address = interface.value.address
    }
  }
}

resource "google_compute_vpn_tunnel" "aws" {
  count   = 4
  project = var.gcp_project
  region  = var.gcp_region
  name    = "${var.name}-aws-${count.index}"

  vpn_gateway                     = google_compute_ha_vpn_gateway.this.id
  vpn_gateway_interface           = floor(count.index / 2)
  peer_external_gateway           = google_compute_external_vpn_gateway.aws.id
  peer_external_gateway_interface = count.index
  shared_secret                   = local.tunnel_psks[count.index]
  router                          = google_compute_router.this.id
  ike_version                     = 2
}

resource "google_compute_router_interface" "aws" {
  count      = 4
  project    = var.gcp_project
  region     = var.gcp_region
  name       = "${var.name}-aws-${count.index}"
  router     = google_compute_router.this.name
  ip_range   = "${local.aws_tunnels[count.index].cgw_inside}/30"
  vpn_tunnel = google_compute_vpn_tunnel.aws[count.index].name
}

resource "google_compute_router_peer" "aws" {
  count                     = 4
  project                   = var.gcp_project
  region                    = var.gcp_region
  name                      = "${var.name}-aws-${count.index}"
  router                    = google_compute_router.this.name
  interface                 = google_compute_router_interface.aws[count.index].name
  peer_ip_address           = local.aws_tunnels[count.index].vgw_inside
  peer_asn                  = var.aws_vpn_asn
  advertised_route_priority = 100
}
