# Credentials come from the environment of whoever applies, never from this directory:
#   AWS          the default credential chain (SSO profile, role)
#   GCP          GOOGLE_APPLICATION_CREDENTIALS or gcloud application-default credentials
#   Atlas        MONGODB_ATLAS_CLIENT_ID / MONGODB_ATLAS_CLIENT_SECRET (service account)
#   Qdrant Cloud QDRANT_CLOUD_API_KEY
#   Aura         TF_VAR_aura_client_id / TF_VAR_aura_client_secret
#   Timescale    TF_VAR_timescale_access_key / TF_VAR_timescale_secret_key

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      project     = "polygate"
      environment = var.environment
      managed-by  = "terraform"
    }
  }
}

provider "google" {
  project = var.gcp_project
  region  = var.gcp_region
}

provider "mongodbatlas" {}

provider "neo4jaura" {
  client_id     = var.aura_client_id
  client_secret = var.aura_client_secret
}

provider "timescale" {
  project_id = var.timescale_project_id
  access_key = var.timescale_access_key
  secret_key = var.timescale_secret_key
}

provider "qdrant-cloud" {
  account_id = var.qdrant_account_id
}
