//! Runs a [`BatchModel`] on its own thread behind a bounded queue, so concurrent callers (many
//! searches, an ingest) share batches and the async runtime never blocks on matrix products.
//!
//! Non-obvious: a batch is whatever is queued when the worker becomes free, up to [`MAX_BATCH`]
//! texts — no timer. An idle embedder answers one query at once; under load, texts of concurrent
//! requests ride in one forward pass (shorter ones sorted together to waste less padding). The
//! queue holds at most [`QUEUE_CAPACITY`] requests; a caller that finds it full waits up to
//! [`ENQUEUE_WAIT`] and then gets `Overloaded`, so a flood of queries cannot pile up unbounded
//! memory or latency.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};

use super::{BatchModel, EmbedError, Embedder};

/// Texts in one forward pass. 32: on this machine's 2 cores larger batches gain little
/// throughput (the bench's embedding figure) and make a query that shares the batch wait longer.
pub const MAX_BATCH: usize = 32;
/// Requests waiting at most.
pub const QUEUE_CAPACITY: usize = 256;
/// How long a caller waits for room in a full queue.
pub const ENQUEUE_WAIT: Duration = Duration::from_secs(5);

struct Request {
    texts: Vec<String>,
    answer: oneshot::Sender<Result<Vec<Vec<f32>>, EmbedError>>,
}

/// The batching front of a model; cheap to share (`Arc`).
pub struct EmbeddingQueue {
    sender: mpsc::Sender<Request>,
    model: String,
    dimensions: usize,
}

impl EmbeddingQueue {
    /// Starts the worker thread; it ends when the queue is dropped.
    pub fn start(model: impl BatchModel) -> Self {
        let model = Arc::new(model);
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let name = model.model().to_owned();
        let dimensions = model.dimensions();
        std::thread::Builder::new()
            .name("search-embedder".into())
            .spawn(move || work(model, receiver))
            .expect("spawn the embedder thread");
        Self {
            sender,
            model: name,
            dimensions,
        }
    }
}

fn work(model: Arc<dyn BatchModel>, mut receiver: mpsc::Receiver<Request>) {
    while let Some(first) = receiver.blocking_recv() {
        let mut batch = vec![first];
        let mut texts = batch[0].texts.len();
        while texts < MAX_BATCH {
            match receiver.try_recv() {
                Ok(next) => {
                    texts += next.texts.len();
                    batch.push(next);
                }
                Err(_) => break,
            }
        }
        let all: Vec<(usize, usize, &String)> = batch
            .iter()
            .enumerate()
            .flat_map(|(r, req)| req.texts.iter().enumerate().map(move |(i, t)| (r, i, t)))
            .collect();
        // Shortest first: each forward pass pads to its longest text.
        let mut order: Vec<usize> = (0..all.len()).collect();
        order.sort_by_key(|&k| all[k].2.len());
        let mut vectors: Vec<Vec<Vec<f32>>> = batch
            .iter()
            .map(|r| vec![Vec::new(); r.texts.len()])
            .collect();
        let mut failed = None;
        for pass in order.chunks(MAX_BATCH) {
            let texts: Vec<String> = pass.iter().map(|&k| all[k].2.clone()).collect();
            match model.embed_batch(&texts) {
                Ok(out) => {
                    for (&k, v) in pass.iter().zip(out) {
                        vectors[all[k].0][all[k].1] = v;
                    }
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        for (request, vecs) in batch.into_iter().zip(vectors) {
            let _ = request.answer.send(match &failed {
                Some(e) => Err(e.clone()),
                None => Ok(vecs),
            });
        }
    }
}

#[async_trait]
impl Embedder for EmbeddingQueue {
    fn model(&self) -> &str {
        &self.model
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(texts.len());
        // Large requests go as several queue entries, so one ingest cannot hold a query back for
        // more than one batch.
        let mut pending = Vec::new();
        for piece in texts.chunks(MAX_BATCH) {
            let (answer, answered) = oneshot::channel();
            let request = Request {
                texts: piece.to_vec(),
                answer,
            };
            tokio::time::timeout(ENQUEUE_WAIT, self.sender.send(request))
                .await
                .map_err(|_| EmbedError::Overloaded)?
                .map_err(|_| EmbedError::Failed("the embedder thread ended".into()))?;
            pending.push(answered);
        }
        for answered in pending {
            let vectors = answered
                .await
                .map_err(|_| EmbedError::Failed("the embedder thread ended".into()))??;
            out.extend(vectors);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Embeds a text as [its length, batch size seen]; records each batch's size.
    struct Recording(Arc<Mutex<Vec<usize>>>);

    impl BatchModel for Recording {
        fn model(&self) -> &str {
            "recording"
        }
        fn dimensions(&self) -> usize {
            2
        }
        fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
            self.0.lock().unwrap().push(texts.len());
            Ok(texts
                .iter()
                .map(|t| vec![t.len() as f32, texts.len() as f32])
                .collect())
        }
    }

    #[tokio::test]
    async fn answers_come_back_in_request_order_across_sorted_batches() {
        let queue = EmbeddingQueue::start(Recording(Arc::default()));
        let texts: Vec<String> = (0..70).map(|i| "x".repeat(70 - i)).collect();
        let vectors = queue.embed(texts.clone()).await.unwrap();
        let lengths: Vec<usize> = vectors.iter().map(|v| v[0] as usize).collect();
        assert_eq!(lengths, texts.iter().map(String::len).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn no_forward_pass_exceeds_the_batch_size() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let queue = Arc::new(EmbeddingQueue::start(Recording(seen.clone())));
        let calls = (0..20).map(|i| {
            let queue = queue.clone();
            async move { queue.embed(vec![format!("text {i}"); 7]).await.unwrap() }
        });
        let answers = futures::future::join_all(calls).await;
        assert!(answers.iter().all(|a| a.len() == 7));
        let seen = seen.lock().unwrap();
        assert!(seen.iter().all(|&n| n <= MAX_BATCH), "{seen:?}");
        assert_eq!(seen.iter().sum::<usize>(), 140);
    }
}
