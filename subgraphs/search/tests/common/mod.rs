//! Shared by the integration tests: stores in fresh folders, a bag-of-words embedder for tests of
//! mechanics (the real model's semantics are tested in `semantics.rs`), and a GraphQL fixture.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use polygate_kit::Viewer;
use polygate_search::domain::FixedClock;
use polygate_search::embed::{EmbedError, Embedder, normalize};
use polygate_search::store::{EmbeddedStore, SearchStore, conformance};
use polygate_search::{SearchSchema, SearchService};
use sha2::{Digest, Sha256};

/// A fresh folder under the temp dir.
pub fn temp_dir(prefix: &str) -> PathBuf {
    std::env::temp_dir().join(polygate_kit::testing::unique_name(prefix))
}

pub async fn embedded_store() -> Arc<EmbeddedStore> {
    Arc::new(
        EmbeddedStore::open(
            &temp_dir("search_test"),
            "chunks_initial",
            &conformance::spec(),
        )
        .await
        .expect("open the embedded store"),
    )
}

/// Each lowercased word hashed to one of 384 dimensions: texts sharing words are close. Not a
/// language model; it makes rankings predictable for tests of plumbing.
pub struct WordsEmbedder;

#[async_trait]
impl Embedder for WordsEmbedder {
    fn model(&self) -> &str {
        "test-words"
    }
    fn dimensions(&self) -> usize {
        384
    }
    async fn embed(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = vec![0.0f32; 384];
                for word in t
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                {
                    let h = Sha256::digest(word.to_lowercase().as_bytes());
                    v[u16::from_le_bytes([h[0], h[1]]) as usize % 384] += 1.0;
                }
                v[383] += 0.01; // never all zeros
                normalize(&mut v);
                v
            })
            .collect())
    }
}

pub const START_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

pub fn service(
    store: Arc<dyn SearchStore>,
    embedder: Arc<dyn Embedder>,
) -> (SearchService, FixedClock) {
    let clock = FixedClock::at(START_MS);
    (
        SearchService::new(store, embedder, Arc::new(clock.clone())),
        clock,
    )
}

pub struct Fixture {
    pub schema: SearchSchema,
    pub service: SearchService,
    pub clock: FixedClock,
}

pub async fn fixture_with(embedder: Arc<dyn Embedder>) -> Fixture {
    let store: Arc<dyn SearchStore> = embedded_store().await;
    let (service, clock) = service(store, embedder);
    let schema = polygate_search::schema::build(service.clone(), conformance::spec());
    Fixture {
        schema,
        service,
        clock,
    }
}

pub async fn fixture() -> Fixture {
    fixture_with(Arc::new(WordsEmbedder)).await
}

pub fn staff() -> Viewer {
    Viewer {
        user_id: "1".into(),
        session_id: "s".into(),
        staff: true,
    }
}

pub fn customer() -> Viewer {
    Viewer {
        user_id: "2".into(),
        session_id: "s".into(),
        staff: false,
    }
}

impl Fixture {
    pub async fn run(
        &self,
        query: &str,
        variables: serde_json::Value,
        viewer: Option<Viewer>,
    ) -> async_graphql::Response {
        let mut request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(variables));
        if let Some(viewer) = viewer {
            request = request.data(viewer);
        }
        self.schema.execute(request).await
    }

    /// Seeds the demo corpus.
    pub async fn seed(&self) {
        use polygate_kit::DemoSeed as _;
        polygate_search::seed::DemoCorpus(self.service.clone())
            .seed()
            .await
            .expect("seed");
    }
}

pub fn json(response: &async_graphql::Response) -> serde_json::Value {
    serde_json::to_value(&response.data).expect("data is JSON")
}

pub fn codes(response: &async_graphql::Response) -> Vec<String> {
    response
        .errors
        .iter()
        .filter_map(|e| {
            e.extensions
                .as_ref()?
                .get("code")
                .map(|c| c.to_string().trim_matches('"').to_owned())
        })
        .collect()
}
