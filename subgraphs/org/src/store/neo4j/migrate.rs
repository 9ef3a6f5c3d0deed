//! The graph's schema (constraints and indexes), applied at start-up from the versioned files of
//! `cypher/org/migrations/`. Each statement is idempotent (`IF NOT EXISTS`) and each applied
//! version is recorded as a `(:SchemaMigration {version})` node, so a restart applies nothing
//! and two processes starting at once cannot break each other.
//!
//! Non-obvious: Neo4j refuses schema changes and data writes in one transaction, so each
//! statement runs on its own and the record is written after; a crash between them re-runs an
//! idempotent statement. Files named `*.enterprise.cypher` (existence constraints) are skipped on
//! Community Edition, which refuses them, and recorded as skipped so an upgrade to Enterprise
//! (or Aura) applies them.

use neo4rs::query;

use super::{Neo4jStore, cypher, get};
use crate::store::StoreError;

pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub cypher: &'static str,
    /// Needs Enterprise Edition (Aura).
    pub enterprise_only: bool,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "uniqueness constraints",
        cypher: include_str!("../../../../../cypher/org/migrations/0001_constraints.cypher"),
        enterprise_only: false,
    },
    Migration {
        version: 2,
        description: "relationship index on MEMBER_OF.role",
        cypher: include_str!("../../../../../cypher/org/migrations/0002_indexes.cypher"),
        enterprise_only: false,
    },
    Migration {
        version: 3,
        description: "existence constraints",
        cypher: include_str!(
            "../../../../../cypher/org/migrations/0003_existence.enterprise.cypher"
        ),
        enterprise_only: true,
    },
];

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    pub applied: Vec<i64>,
    /// Enterprise-only versions this server cannot take.
    pub skipped: Vec<i64>,
}

/// Applies every migration not yet recorded as applied.
pub async fn run(store: &Neo4jStore) -> Result<Applied, StoreError> {
    store
        .run_auto_commit(
            "CREATE CONSTRAINT schema_migration_version IF NOT EXISTS \
             FOR (m:SchemaMigration) REQUIRE m.version IS UNIQUE",
        )
        .await?;
    let rows = store
        .read(query(
            "MATCH (m:SchemaMigration) WHERE m.applied RETURN collect(m.version) AS versions",
        ))
        .await?;
    let done: Vec<i64> = match rows.first() {
        Some(row) => get(row, "versions")?,
        None => Vec::new(),
    };
    let mut outcome = Applied::default();
    for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
        let applies = !m.enterprise_only || store.enterprise();
        if applies {
            for statement in cypher::statements(m.cypher) {
                store.run_auto_commit(statement).await?;
            }
            outcome.applied.push(m.version);
        } else {
            outcome.skipped.push(m.version);
        }
        store
            .retrying(|| async {
                let mut txn = store.begin_write().await?;
                txn.run(
                    query(
                        "MERGE (m:SchemaMigration {version: $version})
                         SET m.description = $description, m.applied = $applied",
                    )
                    .param("version", m.version)
                    .param("description", m.description)
                    .param("applied", applies),
                )
                .await
                .map_err(super::classify)?;
                store.commit(txn).await
            })
            .await?;
    }
    Ok(outcome)
}
