terraform {
  required_version = ">= 1.5.7"

  required_providers {
    neo4jaura = {
      source = "neo4j-labs/neo4jaura"
      # A Neo4j Labs provider in beta: pinned exactly, upgraded deliberately (README).
      version = "= 0.0.2-beta"
    }
  }
}
