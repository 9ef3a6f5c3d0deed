terraform {
  required_version = ">= 1.5.7"

  required_providers {
    qdrant-cloud = {
      source  = "qdrant/qdrant-cloud"
      version = ">= 1.28, < 2.0"
    }
  }
}
