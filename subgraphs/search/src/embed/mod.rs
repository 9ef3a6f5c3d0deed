//! Text → vectors. The [`Embedder`] port hides where embeddings come from: all-MiniLM-L6-v2 run in
//! this process with candle ([`MiniLm`] behind the batching [`EmbeddingQueue`]), or, as a
//! documented option, a remote service (see the design doc). Non-obvious: when the model is not
//! installed the subgraph still opens with [`MissingModel`], whose every call fails with the
//! instruction to install it: a search must never rank by anything but the real model.

mod minilm;
mod missing;
mod queue;

use async_trait::async_trait;

pub use minilm::{DIMENSIONS, MODEL_NAME, MiniLm};
pub use missing::MissingModel;
pub use queue::{EmbeddingQueue, MAX_BATCH, QUEUE_CAPACITY};

/// Why texts could not be embedded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbedError {
    /// No model is installed; the message says how to install it (safe to show clients).
    #[error("{0}")]
    ModelMissing(String),
    /// The queue stayed full past its wait: the embedder is saturated.
    #[error("the embedder is overloaded")]
    Overloaded,
    /// The model failed (bad weights, a tokenizer error); details for the log.
    #[error("embedding failed: {0}")]
    Failed(String),
}

/// Turns texts into unit-length vectors whose dot product is their cosine similarity.
#[async_trait]
pub trait Embedder: Send + Sync {
    /// The model's name, recorded with every collection so vectors of two models never mix.
    fn model(&self) -> &str;
    /// Length of every vector.
    fn dimensions(&self) -> usize;
    /// One vector per text, in order.
    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// A model that embeds a batch synchronously (CPU-bound); [`EmbeddingQueue`] runs it off the
/// async runtime.
pub trait BatchModel: Send + Sync + 'static {
    fn model(&self) -> &str;
    fn dimensions(&self) -> usize;
    fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// Scales `v` to unit length (left as is when all zeros).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Dot product: the cosine similarity of two unit vectors.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Opens the embedder for `model_dir`: the real model when its files are there, else
/// [`MissingModel`] carrying the instruction (and a warning in the log).
pub fn open(model_dir: Option<&std::path::Path>) -> std::sync::Arc<dyn Embedder> {
    match model_dir.map(MiniLm::load) {
        Some(Ok(model)) => {
            tracing::info!(model = MODEL_NAME, "embedding model loaded");
            std::sync::Arc::new(EmbeddingQueue::start(model))
        }
        Some(Err(e)) => {
            let missing = MissingModel::new(Some(e.to_string()));
            tracing::warn!("{}", missing.message());
            std::sync::Arc::new(missing)
        }
        None => {
            let missing = MissingModel::new(None);
            tracing::warn!("{}", missing.message());
            std::sync::Arc::new(missing)
        }
    }
}
