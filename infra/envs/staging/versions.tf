terraform {
  required_version = ">= 1.5.7"

  # State holds generated passwords, so it lives in an encrypted, versioned, access-logged bucket
  # with a lock table; both are created once per account by hand (infra/README.md, "First apply").
  backend "s3" {
    bucket         = "polygate-terraform-state-staging"
    key            = "polygate/staging/terraform.tfstate"
    region         = "eu-central-1"
    encrypt        = true
    kms_key_id     = "alias/polygate-terraform-state"
    dynamodb_table = "polygate-terraform-locks"
  }

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
    google = {
      source  = "hashicorp/google"
      version = ">= 7.0, < 8.0"
    }
    mongodbatlas = {
      source  = "mongodb/mongodbatlas"
      version = ">= 2.16, < 3.0"
    }
    neo4jaura = {
      source  = "neo4j-labs/neo4jaura"
      version = "= 0.0.2-beta"
    }
    timescale = {
      source  = "timescale/timescale"
      version = ">= 2.13, < 3.0"
    }
    qdrant-cloud = {
      source  = "qdrant/qdrant-cloud"
      version = ">= 1.28, < 2.0"
    }
  }
}
