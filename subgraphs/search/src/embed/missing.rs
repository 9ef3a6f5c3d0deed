//! The embedder used when no model is installed: the subgraph opens and serves everything else,
//! and every search or indexing call fails with the same instruction instead of returning
//! rankings that mean nothing.

use async_trait::async_trait;

use super::{EmbedError, Embedder};

/// How to get the model, for logs and clients.
pub const INSTALL_HINT: &str = "semantic search needs the all-MiniLM-L6-v2 model: run \
     `e2e/servers/embedding-model.sh install` and set `[subgraphs.search] model_dir` (or \
     POLYGATE_SUBGRAPHS__SEARCH__MODEL_DIR) to the folder it prints, then restart";

pub struct MissingModel {
    message: String,
}

impl MissingModel {
    /// `problem`: why the configured folder did not load, if one was configured.
    pub fn new(problem: Option<String>) -> Self {
        let message = match problem {
            Some(problem) => format!("{INSTALL_HINT} ({problem})"),
            None => INSTALL_HINT.to_owned(),
        };
        Self { message }
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

#[async_trait]
impl Embedder for MissingModel {
    fn model(&self) -> &str {
        "none"
    }

    fn dimensions(&self) -> usize {
        super::DIMENSIONS
    }

    async fn embed(&self, _texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        Err(EmbedError::ModelMissing(self.message.clone()))
    }
}
