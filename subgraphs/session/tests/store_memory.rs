//! The store conformance suite on the in-process TTL cache.

use std::sync::Arc;

use futures::future::BoxFuture;
use polygate_session::store::{MemoryStore, SessionPolicy, SessionStore, conformance};

fn memory_store(policy: SessionPolicy) -> BoxFuture<'static, Arc<dyn SessionStore>> {
    Box::pin(async move { Arc::new(MemoryStore::new(policy)) as Arc<dyn SessionStore> })
}

polygate_session::session_store_conformance!(Some(memory_store));

#[tokio::test]
async fn token_is_not_stored_in_clear() {
    let store = MemoryStore::new(SessionPolicy::default());
    let token = conformance::create_for_dump(&store).await;
    conformance::assert_token_not_stored(&token, &store.stored_strings());
}
