//! The Qdrant adapter's collections: creating them with their payload indexes, the alias swap,
//! statistics and snapshots.

use std::path::Path;

use qdrant_client::qdrant::{
    Condition, CreateAliasBuilder, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder,
    Distance, FieldType, Filter as QFilter, HnswConfigDiffBuilder, OrderByBuilder,
    QuantizationType, ScalarQuantizationBuilder, ScrollPointsBuilder, VectorParamsBuilder,
};

use super::payload::{DocumentPayload, KIND_DOCUMENT, from_payload};
use super::{QdrantStore, from_qdrant};
use crate::store::{CollectionSpec, IndexStats, Quantization, StoreError, check_collection_name};

/// The payload indexes of a chunk collection: every field a filter or a delete uses.
pub const CHUNK_INDEXES: [(&str, FieldType); 6] = [
    ("doc_id", FieldType::Keyword),
    ("source", FieldType::Keyword),
    ("tags", FieldType::Keyword),
    ("created_at", FieldType::Integer),
    ("chunk_index", FieldType::Integer),
    ("version", FieldType::Integer),
];

/// The payload indexes of the documents collection.
pub const DOCUMENT_INDEXES: [(&str, FieldType); 6] = [
    ("kind", FieldType::Keyword),
    ("id", FieldType::Keyword),
    ("pending", FieldType::Bool),
    ("version", FieldType::Integer),
    ("updated_at", FieldType::Integer),
    ("deleted_at", FieldType::Integer),
];

impl QdrantStore {
    pub(super) async fn ensure_layout(
        &self,
        initial: &str,
        spec: &CollectionSpec,
    ) -> Result<(), StoreError> {
        let documents = self.documents();
        if !self
            .client
            .collection_exists(&documents)
            .await
            .map_err(from_qdrant)?
        {
            self.client
                .create_collection(
                    CreateCollectionBuilder::new(&documents)
                        .shard_number(1)
                        .replication_factor(self.layout.replication_factor),
                )
                .await
                .map_err(from_qdrant)?;
            self.create_indexes(&documents, &DOCUMENT_INDEXES).await?;
        }
        if self.alias_target().await?.is_none() {
            if !self
                .chunk_collections()
                .await?
                .contains(&initial.to_owned())
            {
                self.create(initial, spec).await?;
            }
            self.swap(initial).await?;
        }
        Ok(())
    }

    async fn create_indexes(
        &self,
        collection: &str,
        fields: &[(&str, FieldType)],
    ) -> Result<(), StoreError> {
        for (field, kind) in fields {
            self.client
                .create_field_index(
                    CreateFieldIndexCollectionBuilder::new(collection, *field, *kind).wait(true),
                )
                .await
                .map_err(from_qdrant)?;
        }
        Ok(())
    }

    pub(super) async fn create(&self, name: &str, spec: &CollectionSpec) -> Result<(), StoreError> {
        check_collection_name(name)?;
        let full = self.full(name);
        let mut create = CreateCollectionBuilder::new(&full)
            .vectors_config(
                VectorParamsBuilder::new(u64::from(spec.dimensions), Distance::Cosine)
                    .on_disk(self.layout.on_disk_vectors),
            )
            .hnsw_config(
                HnswConfigDiffBuilder::default()
                    .m(u64::from(spec.m))
                    .ef_construct(u64::from(spec.ef_construct))
                    .on_disk(false),
            )
            .shard_number(self.layout.shards)
            .replication_factor(self.layout.replication_factor);
        if spec.quantization == Quantization::Int8 {
            create = create.quantization_config(
                ScalarQuantizationBuilder::default()
                    .r#type(QuantizationType::Int8.into())
                    .quantile(0.99)
                    .always_ram(true),
            );
        }
        self.client
            .create_collection(create)
            .await
            .map_err(from_qdrant)?;
        self.create_indexes(&full, &CHUNK_INDEXES).await
    }

    /// The full name of the collection the alias names.
    pub(super) async fn alias_target(&self) -> Result<Option<String>, StoreError> {
        let alias = self.alias();
        let aliases = self.client.list_aliases().await.map_err(from_qdrant)?;
        Ok(aliases
            .aliases
            .into_iter()
            .find(|a| a.alias_name == alias)
            .map(|a| a.collection_name))
    }

    /// Re-points the alias in one step (Qdrant's create-alias replaces an existing mapping under
    /// its alias lock, so no search ever sees no collection).
    pub(super) async fn swap(&self, name: &str) -> Result<Option<String>, StoreError> {
        let previous = self.alias_target().await?;
        self.client
            .create_alias(CreateAliasBuilder::new(self.full(name), self.alias()))
            .await
            .map_err(from_qdrant)?;
        Ok(previous.map(|p| p.strip_prefix(&self.prefix).unwrap_or(&p).to_owned()))
    }

    pub(super) async fn drop_named(&self, name: &str) -> Result<(), StoreError> {
        let full = self.full(name);
        if self.alias_target().await?.as_deref() == Some(full.as_str()) {
            return Err(StoreError::Other(format!(
                "collection {name} is the alias's target; swap the alias first"
            )));
        }
        if !self
            .client
            .collection_exists(&full)
            .await
            .map_err(from_qdrant)?
        {
            return Err(StoreError::NoSuchCollection(name.to_owned()));
        }
        self.client
            .delete_collection(full)
            .await
            .map_err(from_qdrant)?;
        Ok(())
    }

    /// Every collection with this store's prefix (full names).
    pub(super) async fn own_collections(&self) -> Result<Vec<String>, StoreError> {
        let all = self.client.list_collections().await.map_err(from_qdrant)?;
        Ok(all
            .collections
            .into_iter()
            .map(|c| c.name)
            .filter(|n| n.starts_with(&self.prefix))
            .collect())
    }

    /// The chunk collections' full names.
    pub(super) async fn chunk_collection_names(&self) -> Result<Vec<String>, StoreError> {
        let chunks = self.full("chunks_");
        Ok(self
            .own_collections()
            .await?
            .into_iter()
            .filter(|n| n.starts_with(&chunks))
            .collect())
    }

    /// The chunk collections' names without the prefix.
    pub(super) async fn chunk_collections(&self) -> Result<Vec<String>, StoreError> {
        let mut names: Vec<String> = self
            .chunk_collection_names()
            .await?
            .into_iter()
            .map(|n| n[self.prefix.len()..].to_owned())
            .collect();
        names.sort();
        Ok(names)
    }

    pub(super) async fn read_stats(&self) -> Result<IndexStats, StoreError> {
        let documents = self.documents();
        let kind = || Condition::matches("kind", KIND_DOCUMENT.to_owned());
        let pending_filter = || QFilter::must([kind(), Condition::matches("pending", true)]);
        let oldest = self
            .client
            .scroll(
                ScrollPointsBuilder::new(&documents)
                    .filter(pending_filter())
                    .order_by(OrderByBuilder::new("updated_at"))
                    .limit(1)
                    .with_payload(true),
            )
            .await
            .map_err(from_qdrant)?
            .result
            .into_iter()
            .next()
            .map(|p| from_payload::<DocumentPayload>(p.payload).map(|d| d.updated_at))
            .transpose()?;
        let target = self.alias_target().await?.unwrap_or_default();
        Ok(IndexStats {
            collection: target
                .strip_prefix(&self.prefix)
                .unwrap_or(&target)
                .to_owned(),
            documents: self
                .count(&documents, Some(QFilter::must([kind()])))
                .await?,
            pending: self.count(&documents, Some(pending_filter())).await?,
            chunks: self.count(&self.alias(), None).await?,
            oldest_pending_ms: oldest,
            graph_memory_bytes: 0,
        })
    }

    /// Creates a Qdrant snapshot of the documents collection and of the alias's collection and
    /// writes their names to `dest/manifest.json`; the snapshot files stay on the server
    /// (Qdrant Cloud keeps them in its backup storage), where recovery reads them.
    pub(super) async fn write_snapshot(&self, dest: &Path) -> Result<(), StoreError> {
        let io = |e: std::io::Error| StoreError::Other(format!("snapshot manifest: {e}"));
        if dest.exists() && std::fs::read_dir(dest).map_err(io)?.next().is_some() {
            return Err(StoreError::Other(format!(
                "{} is not empty",
                dest.display()
            )));
        }
        std::fs::create_dir_all(dest).map_err(io)?;
        let active = self
            .alias_target()
            .await?
            .ok_or_else(|| StoreError::NoSuchCollection(self.alias()))?;
        let mut taken = Vec::new();
        for collection in [self.documents(), active] {
            let snapshot = self
                .client
                .create_snapshot(&collection)
                .await
                .map_err(from_qdrant)?;
            let name = snapshot
                .snapshot_description
                .map(|d| d.name)
                .ok_or_else(|| StoreError::Other("Qdrant returned no snapshot".into()))?;
            taken.push(serde_json::json!({"collection": collection, "snapshot": name}));
        }
        let manifest = serde_json::json!({
            "engine": "qdrant",
            "alias": self.alias(),
            "snapshots": taken,
        });
        std::fs::write(
            dest.join("manifest.json"),
            serde_json::to_vec_pretty(&manifest).unwrap_or_default(),
        )
        .map_err(io)
    }
}
