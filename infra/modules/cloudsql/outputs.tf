output "instances" {
  description = "Every primary instance by commerce database name: name, connection name, private IP."
  value = {
    for k, i in google_sql_database_instance.primary : k => {
      name            = i.name
      connection_name = i.connection_name
      private_ip      = i.private_ip_address
    }
  }
}

output "replicas" {
  description = "Every read replica by `<database>-r<n>`: name and private IP."
  value = {
    for k, i in google_sql_database_instance.replica : k => {
      name       = i.name
      database   = local.replicas[k].database
      private_ip = i.private_ip_address
    }
  }
}

output "server_ca_certs" {
  description = "Each primary's server CA certificate (PEM), for `sslmode=verify-ca` once the driver is built with TLS."
  value       = { for k, i in google_sql_database_instance.primary : k => i.server_ca_cert[0].cert }
}

output "store_urls" {
  description = "Connection URLs for commerce's configuration: `primary` and `replica` (the first replica, if any) per database. Sensitive: they carry the password."
  sensitive   = true
  value = {
    for k, i in google_sql_database_instance.primary : k => {
      primary = "postgres://${google_sql_user.app[k].name}:${random_password.app[k].result}@${i.private_ip_address}:5432/${var.database_name}?sslmode=require"
      replica = try(
        "postgres://${google_sql_user.app[k].name}:${random_password.app[k].result}@${google_sql_database_instance.replica["${k}-r0"].private_ip_address}:5432/${var.database_name}?sslmode=require",
        null
      )
    }
  }
}
