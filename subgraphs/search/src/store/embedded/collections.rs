//! The embedded store's collections: loading them on open, creating one, swapping the alias,
//! dropping one, writing graph files, and snapshots.
//!
//! Non-obvious: a graph file's name carries the `write_seq` it reflects
//! (`<collection>.<seq>.usearch`), so "is this file current?" is a name comparison and a crash
//! while writing leaves at worst a stale file that the next open ignores.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::Row;

use super::ann::{AnnCollection, NewPoint, PointMeta};
use super::rows::{corrupt, from_sqlx, tags_from_json, vector_from_blob};
use super::{ANN_DIR, DB_FILE, EmbeddedStore};
use crate::domain::{DocumentId, PointId, Source};
use crate::store::{ACTIVE, CollectionSpec, Quantization, StoreError, check_collection_name};

fn graph_file(dir: &Path, name: &str, seq: i64) -> PathBuf {
    dir.join(format!("{name}.{seq}.usearch"))
}

fn io(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("{what}: {e}"))
}

/// Removes the graph files of `name` other than the one at `keep`.
fn remove_graph_files(dir: &Path, name: &str, keep: Option<i64>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{name}.");
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let seq = rest
            .strip_suffix(".usearch")
            .and_then(|s| s.parse::<i64>().ok());
        if seq.is_some() && seq != keep || rest.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes `collection`'s graph when it changed; true when it wrote.
pub(super) fn save_graph(dir: &Path, collection: &AnnCollection) -> Result<bool, StoreError> {
    let tmp = dir.join(format!("{}.tmp", collection.name));
    let Some(seq) = collection.save_if_dirty(|_| tmp.clone())? else {
        return Ok(false);
    };
    std::fs::rename(&tmp, graph_file(dir, &collection.name, seq))
        .map_err(|e| io("graph file", e))?;
    remove_graph_files(dir, &collection.name, Some(seq));
    Ok(true)
}

fn spec_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<CollectionSpec, StoreError> {
    let get = |name: &str| row.try_get::<i64, _>(name).map_err(from_sqlx);
    let quantization: String = row.try_get("quantization").map_err(from_sqlx)?;
    Ok(CollectionSpec {
        m: get("m")? as u32,
        ef_construct: get("ef_construct")? as u32,
        ef_search: get("ef_search")? as u32,
        quantization: match quantization.as_str() {
            "int8" => Quantization::Int8,
            _ => Quantization::None,
        },
        dimensions: get("dimensions")? as u32,
    })
}

fn quantization_name(q: Quantization) -> &'static str {
    match q {
        Quantization::None => "none",
        Quantization::Int8 => "int8",
    }
}

impl EmbeddedStore {
    pub(super) async fn load_all(
        &self,
        initial: &str,
        spec: &CollectionSpec,
    ) -> Result<(), StoreError> {
        check_collection_name(initial)?;
        let wanted_ef = spec.ef_search;
        let alias: Option<String> =
            sqlx::query_scalar("SELECT collection FROM aliases WHERE alias = ?")
                .bind(ACTIVE)
                .fetch_optional(&self.pool)
                .await
                .map_err(from_sqlx)?;
        let active = match alias {
            Some(active) => active,
            None => {
                let mut tx = self.write_tx().await?;
                insert_collection(&mut tx, initial, spec).await?;
                sqlx::query("INSERT INTO aliases (alias, collection) VALUES (?, ?)")
                    .bind(ACTIVE)
                    .bind(initial)
                    .execute(&mut *tx)
                    .await
                    .map_err(from_sqlx)?;
                tx.commit().await.map_err(from_sqlx)?;
                initial.to_owned()
            }
        };
        let rows = sqlx::query(
            "SELECT name, m, ef_construct, ef_search, quantization, dimensions, write_seq
             FROM collections",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        let ann_dir = self.dir.join(ANN_DIR);
        for row in rows {
            let name: String = row.try_get("name").map_err(from_sqlx)?;
            let seq: i64 = row.try_get("write_seq").map_err(from_sqlx)?;
            let mut spec = spec_from_row(&row)?;
            // `ef` is a search-time setting: the configured one wins over the recorded one.
            spec.ef_search = wanted_ef;
            let points = self.points_of(&name).await?;
            let file = graph_file(&ann_dir, &name, seq);
            let started = std::time::Instant::now();
            let count = points.len();
            let collection = {
                let (label, file) = (name.clone(), file.clone());
                tokio::task::spawn_blocking(move || {
                    let file = file.is_file().then_some(file.as_path());
                    AnnCollection::load(&label, &spec, points, seq, file)
                })
                .await
                .map_err(|e| StoreError::Other(format!("loading {name} panicked: {e}")))??
            };
            tracing::info!(
                collection = name,
                points = count,
                seconds = started.elapsed().as_secs_f64(),
                "vector collection loaded"
            );
            self.state_mut().loaded.insert(name, Arc::new(collection));
        }
        self.state_mut().active = active;
        Ok(())
    }

    /// Every point of a collection from its rows.
    async fn points_of(&self, collection: &str) -> Result<Vec<NewPoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT key, point_id, doc_id, chunk_index, source, tags, created_at, vector
             FROM chunks WHERE collection = ?",
        )
        .bind(collection)
        .fetch_all(&self.pool)
        .await
        .map_err(from_sqlx)?;
        rows.iter()
            .map(|row| {
                let key: i64 = row.try_get("key").map_err(from_sqlx)?;
                let point: String = row.try_get("point_id").map_err(from_sqlx)?;
                let doc: String = row.try_get("doc_id").map_err(from_sqlx)?;
                let source: String = row.try_get("source").map_err(from_sqlx)?;
                let tags: String = row.try_get("tags").map_err(from_sqlx)?;
                let blob: Vec<u8> = row.try_get("vector").map_err(from_sqlx)?;
                let index: i64 = row.try_get("chunk_index").map_err(from_sqlx)?;
                Ok(NewPoint {
                    key: key as u64,
                    meta: PointMeta {
                        id: PointId::parse(&point).ok_or_else(|| corrupt("point_id", &point))?,
                        document: DocumentId::parse(&doc).map_err(|e| corrupt("doc_id", e))?,
                        index: index as u32,
                        source: Source::parse(&source).map_err(|e| corrupt("source", e))?,
                        tags: tags_from_json(&tags)?,
                        created_at: row.try_get("created_at").map_err(from_sqlx)?,
                    },
                    vector: vector_from_blob(&blob),
                })
            })
            .collect()
    }

    pub(super) async fn create(&self, name: &str, spec: &CollectionSpec) -> Result<(), StoreError> {
        check_collection_name(name)?;
        let _writer = self.writer.lock().await;
        if self.state().loaded.contains_key(name) {
            return Err(StoreError::Other(format!("collection {name} exists")));
        }
        let collection = AnnCollection::new(name, spec)?;
        let mut tx = self.write_tx().await?;
        insert_collection(&mut tx, name, spec).await?;
        tx.commit().await.map_err(from_sqlx)?;
        self.state_mut()
            .loaded
            .insert(name.to_owned(), Arc::new(collection));
        Ok(())
    }

    pub(super) async fn swap(&self, name: &str) -> Result<Option<String>, StoreError> {
        let _writer = self.writer.lock().await;
        self.collection(name)?;
        let mut tx = self.write_tx().await?;
        let previous: Option<String> =
            sqlx::query_scalar("SELECT collection FROM aliases WHERE alias = ?")
                .bind(ACTIVE)
                .fetch_optional(&mut *tx)
                .await
                .map_err(from_sqlx)?;
        sqlx::query(
            "INSERT INTO aliases (alias, collection) VALUES (?, ?)
             ON CONFLICT (alias) DO UPDATE SET collection = excluded.collection",
        )
        .bind(ACTIVE)
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        tx.commit().await.map_err(from_sqlx)?;
        self.state_mut().active = name.to_owned();
        Ok(previous)
    }

    pub(super) async fn drop_named(&self, name: &str) -> Result<(), StoreError> {
        let _writer = self.writer.lock().await;
        if self.state().active == name {
            return Err(StoreError::Other(format!(
                "collection {name} is the alias's target; swap the alias first"
            )));
        }
        self.collection(name)?;
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM collections WHERE name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(from_sqlx)?;
        tx.commit().await.map_err(from_sqlx)?;
        self.state_mut().loaded.remove(name);
        remove_graph_files(&self.dir.join(ANN_DIR), name, None);
        Ok(())
    }

    /// A consistent copy of the whole store in `dest`: the database (`VACUUM INTO`, which
    /// readers do not block) and each collection's graph at the same `write_seq`, taken while
    /// writes wait.
    pub(super) async fn write_snapshot(&self, dest: &Path) -> Result<(), StoreError> {
        if dest.exists()
            && std::fs::read_dir(dest)
                .map_err(|e| io("snapshot folder", e))?
                .next()
                .is_some()
        {
            return Err(StoreError::Other(format!(
                "{} is not empty",
                dest.display()
            )));
        }
        std::fs::create_dir_all(dest.join(ANN_DIR)).map_err(|e| io("snapshot folder", e))?;
        let _writer = self.writer.lock().await;
        sqlx::query("VACUUM INTO ?")
            .bind(dest.join(DB_FILE).to_string_lossy().into_owned())
            .execute(&self.pool)
            .await
            .map_err(from_sqlx)?;
        let collections: Vec<Arc<AnnCollection>> = self.state().loaded.values().cloned().collect();
        let ann = dest.join(ANN_DIR);
        tokio::task::spawn_blocking(move || {
            for collection in collections {
                let tmp = ann.join(format!("{}.tmp", collection.name));
                let seq = collection.save_to(&tmp)?;
                std::fs::rename(&tmp, graph_file(&ann, &collection.name, seq))
                    .map_err(|e| io("graph file", e))?;
            }
            Ok(())
        })
        .await
        .map_err(|e| StoreError::Other(format!("snapshot panicked: {e}")))?
    }
}

/// Puts a snapshot written by [`crate::store::SearchStore::snapshot`] in place as the store in
/// `store_dir`, which must not hold a store yet; open it afterwards.
pub fn restore_snapshot(snapshot: &Path, store_dir: &Path) -> Result<(), StoreError> {
    if store_dir.join(DB_FILE).exists() {
        return Err(StoreError::Other(format!(
            "{} already holds a store; restore into an empty folder",
            store_dir.display()
        )));
    }
    let source_db = snapshot.join(DB_FILE);
    if !source_db.is_file() {
        return Err(StoreError::Other(format!(
            "{} has no {DB_FILE}",
            snapshot.display()
        )));
    }
    std::fs::create_dir_all(store_dir.join(ANN_DIR)).map_err(|e| io("store folder", e))?;
    std::fs::copy(&source_db, store_dir.join(DB_FILE)).map_err(|e| io("database copy", e))?;
    if let Ok(entries) = std::fs::read_dir(snapshot.join(ANN_DIR)) {
        for entry in entries.flatten() {
            std::fs::copy(
                entry.path(),
                store_dir.join(ANN_DIR).join(entry.file_name()),
            )
            .map_err(|e| io("graph copy", e))?;
        }
    }
    Ok(())
}

async fn insert_collection(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    name: &str,
    spec: &CollectionSpec,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO collections (name, m, ef_construct, ef_search, quantization, dimensions)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(name)
    .bind(spec.m as i64)
    .bind(spec.ef_construct as i64)
    .bind(spec.ef_search as i64)
    .bind(quantization_name(spec.quantization))
    .bind(spec.dimensions as i64)
    .execute(&mut **tx)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}
