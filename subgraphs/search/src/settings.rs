//! `[subgraphs.search]`: where documents and vectors live, where the model is, and how the
//! vector collections are built. Every key has a default; the defaults are the embedded store.

use std::path::PathBuf;

use polygate_kit::SettingsError;
use polygate_kit::secret::{Secret, credentials};
use serde::{Deserialize, Serialize};

use crate::store::{CollectionSpec, Quantization};

/// The folder `e2e/servers/embedding-model.sh install` creates (and prints), relative to the
/// cache folder; used when `model_dir` is empty.
pub const DEFAULT_MODEL_SUBDIR: &str = "polygate/models/all-minilm-l6-v2-0.1.0";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchSettings {
    /// `embedded` (SQLite + in-process HNSW under `server.data_dir/search/`) or the gRPC URL of
    /// a Qdrant server, e.g. `http://127.0.0.1:6334` or a Qdrant Cloud cluster's `https://…:6334`.
    pub store: String,
    /// Qdrant API key (Qdrant Cloud); empty for none. A literal (prefer the environment
    /// variable `POLYGATE_SUBGRAPHS__SEARCH__API_KEY` to the file) or
    /// `{ aws_secret = "arn:…", key = "api_key" }` (AWS Secrets Manager, read at open).
    pub api_key: Secret,
    /// Prefix of every Qdrant collection and alias name, so several deployments can share a
    /// cluster: `<prefix>documents`, `<prefix>chunks` (the alias), `<prefix>chunks_<ms>`.
    pub collection_prefix: String,
    /// The all-MiniLM-L6-v2 folder (`model.safetensors`, `tokenizer.json`, `config.json`). Empty:
    /// `~/.cache/polygate/models/all-minilm-l6-v2-0.1.0` if it exists. Without a model the
    /// subgraph serves, but searches answer `STORE_UNAVAILABLE` saying how to install it.
    pub model_dir: String,
    /// HNSW graph of new collections.
    pub hnsw: HnswSettings,
    /// `int8` (scalar quantization, 4× smaller vectors in RAM, rescored with the originals) or
    /// `none`.
    pub quantization: String,
    /// Qdrant collection layout (ignored by the embedded store).
    pub qdrant: QdrantSettings,
    /// Seconds between recall probes (exact vs HNSW on a sample); 0 turns them off.
    pub recall_probe_every_secs: u64,
    /// Stored vectors used as queries by each recall probe.
    pub recall_probe_sample: usize,
    /// How often the catalog's product content feed is polled, in milliseconds.
    pub feed_poll_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HnswSettings {
    /// Edges per node (Qdrant `m`).
    pub m: u32,
    /// Candidates while building (Qdrant `ef_construct`).
    pub ef_construct: u32,
    /// Candidates while searching (Qdrant `hnsw_ef`).
    pub ef_search: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QdrantSettings {
    /// Shards of the chunks collection (see the design doc for sizing).
    pub shards: u32,
    /// Copies of each shard (Qdrant Cloud: 2 or more for availability).
    pub replication_factor: u32,
    /// Keep the original f32 vectors on disk (memory-mapped) and only the int8 ones in RAM.
    pub on_disk_vectors: bool,
    /// Seconds a Qdrant call may take.
    pub timeout_secs: u64,
}

impl Default for SearchSettings {
    fn default() -> Self {
        Self {
            store: "embedded".into(),
            api_key: Secret::Value(String::new()),
            collection_prefix: "polygate_".into(),
            model_dir: String::new(),
            hnsw: HnswSettings::default(),
            quantization: "int8".into(),
            qdrant: QdrantSettings::default(),
            recall_probe_every_secs: 300,
            recall_probe_sample: 50,
            feed_poll_ms: 1000,
        }
    }
}

impl Default for HnswSettings {
    fn default() -> Self {
        Self {
            m: 16,
            ef_construct: 100,
            ef_search: 64,
        }
    }
}

impl Default for QdrantSettings {
    fn default() -> Self {
        Self {
            shards: 1,
            replication_factor: 1,
            on_disk_vectors: true,
            timeout_secs: 10,
        }
    }
}

impl SearchSettings {
    pub fn is_embedded(&self) -> bool {
        self.store.trim() == "embedded"
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        let store = self.store.trim();
        if store != "embedded" && !(store.starts_with("http://") || store.starts_with("https://")) {
            return Err(SettingsError::new(
                "store",
                format!(
                    "expected `embedded` or a Qdrant URL like http://127.0.0.1:6334, got `{store}`"
                ),
            ));
        }
        if !(4..=128).contains(&self.hnsw.m) {
            return Err(SettingsError::new("hnsw.m", "must be between 4 and 128"));
        }
        if !(8..=2048).contains(&self.hnsw.ef_construct) {
            return Err(SettingsError::new(
                "hnsw.ef_construct",
                "must be between 8 and 2048",
            ));
        }
        if !(8..=4096).contains(&self.hnsw.ef_search) {
            return Err(SettingsError::new(
                "hnsw.ef_search",
                "must be between 8 and 4096",
            ));
        }
        self.quantization()?;
        let prefix_ok = self.collection_prefix.len() <= 32
            && self
                .collection_prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !prefix_ok {
            return Err(SettingsError::new(
                "collection_prefix",
                "at most 32 of a-z, 0-9 and _",
            ));
        }
        if self.qdrant.shards == 0 || self.qdrant.replication_factor == 0 {
            return Err(SettingsError::new(
                "qdrant.shards",
                "shards and replication_factor must be at least 1",
            ));
        }
        if self.recall_probe_sample == 0 || self.recall_probe_sample > 1000 {
            return Err(SettingsError::new(
                "recall_probe_sample",
                "must be 1 to 1000",
            ));
        }
        if self.feed_poll_ms < 50 {
            return Err(SettingsError::new("feed_poll_ms", "must be at least 50"));
        }
        credentials::check("api_key", Some(&self.api_key))
    }

    /// The API key, a reference read from AWS Secrets Manager (only when it is one); empty for
    /// none.
    pub async fn api_key(&self) -> anyhow::Result<String> {
        let resolver = credentials::resolver_for(&[Some(&self.api_key)]).await;
        let key = credentials::resolve("api_key", Some(&self.api_key), resolver.as_ref()).await?;
        Ok(key.unwrap_or_default())
    }

    fn quantization(&self) -> Result<Quantization, SettingsError> {
        match self.quantization.as_str() {
            "int8" => Ok(Quantization::Int8),
            "none" => Ok(Quantization::None),
            other => Err(SettingsError::new(
                "quantization",
                format!("expected `int8` or `none`, got `{other}`"),
            )),
        }
    }

    /// The spec new collections get.
    pub fn collection_spec(&self, dimensions: usize) -> CollectionSpec {
        CollectionSpec {
            m: self.hnsw.m,
            ef_construct: self.hnsw.ef_construct,
            ef_search: self.hnsw.ef_search,
            quantization: self.quantization().unwrap_or(Quantization::Int8),
            dimensions: dimensions as u32,
        }
    }

    /// The model folder to load: `model_dir`, or the install script's default when it exists.
    pub fn model_dir(&self) -> Option<PathBuf> {
        if !self.model_dir.trim().is_empty() {
            return Some(PathBuf::from(self.model_dir.trim()));
        }
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        let dir = cache.join(DEFAULT_MODEL_SUBDIR);
        dir.join("model.safetensors").is_file().then_some(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_key_is_a_literal_or_a_secret_and_a_bad_reference_is_named() {
        let parsed: SearchSettings = toml::from_str(
            r#"
            store = "https://x.cloud.qdrant.io:6334"
            api_key = { aws_secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:qdrant-AbCdEf", key = "api_key" }
            "#,
        )
        .unwrap();
        parsed.validate().unwrap();
        assert!(parsed.api_key.is_reference());
        let literal: SearchSettings = toml::from_str(r#"api_key = "k-123""#).unwrap();
        assert_eq!(literal.api_key, Secret::Value("k-123".into()));
        let bad = SearchSettings {
            api_key: Secret::Aws(polygate_kit::secret::AwsSecretRef {
                aws_secret: "qdrant".into(),
                key: None,
            }),
            ..SearchSettings::default()
        };
        assert_eq!(bad.validate().unwrap_err().key, "api_key");
    }

    #[test]
    fn defaults_are_valid_and_embedded() {
        let s = SearchSettings::default();
        s.validate().unwrap();
        assert!(s.is_embedded());
    }

    #[test]
    fn a_qdrant_cloud_https_url_is_accepted() {
        let s = SearchSettings {
            store: "https://xyz-example.eu-central-1-0.aws.cloud.qdrant.io:6334".into(),
            ..SearchSettings::default()
        };
        s.validate().unwrap();
        assert!(!s.is_embedded());
    }

    #[test]
    fn bad_keys_are_named() {
        let s = SearchSettings {
            store: "qdrant".into(),
            ..SearchSettings::default()
        };
        assert_eq!(s.validate().unwrap_err().key, "store");
        let s = SearchSettings {
            quantization: "int4".into(),
            ..SearchSettings::default()
        };
        assert_eq!(s.validate().unwrap_err().key, "quantization");
        let mut s = SearchSettings::default();
        s.hnsw.m = 1;
        assert_eq!(s.validate().unwrap_err().key, "hnsw.m");
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let err = toml::from_str::<SearchSettings>("stor = \"embedded\"").unwrap_err();
        assert!(err.to_string().contains("stor"), "{err}");
    }
}
