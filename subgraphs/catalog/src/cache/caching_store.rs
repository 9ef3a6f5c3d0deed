//! [`CachingStore`]: a [`CatalogStore`] that answers product reads and searches from a
//! [`CacheBackend`] first and invalidates it after every write (see the module doc of
//! `cache` for the decisions).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::FutureExt;
use sha2::{Digest, Sha256};

use super::{CacheBackend, CacheError, CacheSettings, Fence, FillTicket, SingleFlight, jittered};
use crate::domain::{
    CatalogProduct, NewReview, ProductContent, Review, ReviewCursor, ReviewOutcome, SearchQuery,
    Sku, Variant,
};
use crate::store::document::{ProductDoc, product_from_raw};
use crate::store::{CatalogStore, Collection, ContentChange, StoreError};

/// The `cache` label of product documents in `polygate_cache_lookups_total` and
/// `polygate_cache_hit_ratio`.
pub const PRODUCT_CACHE: &str = "catalog_product";
/// The `cache` label of search pages.
pub const PAGE_CACHE: &str = "catalog_page";

struct Inner {
    store: Arc<dyn CatalogStore>,
    backend: Arc<dyn CacheBackend>,
    settings: CacheSettings,
    fence: Fence,
}

pub struct CachingStore {
    inner: Arc<Inner>,
    products: SingleFlight<Sku, CatalogProduct, StoreError>,
    pages: SingleFlight<String, Vec<CatalogProduct>, StoreError>,
}

impl CachingStore {
    pub fn new(
        store: Arc<dyn CatalogStore>,
        backend: Arc<dyn CacheBackend>,
        settings: CacheSettings,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                backend,
                settings,
                fence: Fence::new(),
            }),
            products: SingleFlight::default(),
            pages: SingleFlight::default(),
        }
    }

    pub fn backend(&self) -> &Arc<dyn CacheBackend> {
        &self.inner.backend
    }

    /// The key of a product's cached document (for tests).
    pub fn product_key(&self, sku: &Sku) -> String {
        self.inner.product_key(sku.as_str())
    }

    /// A ticket for a later [`fill`](Self::fill), as every load takes before reading the store.
    pub fn fill_ticket(&self) -> FillTicket {
        self.inner.fence.ticket()
    }

    /// Fills the product cache with `products` read after `ticket` (what every load does; public
    /// so the fence can be tested without racing real tasks).
    pub async fn fill(&self, products: &[CatalogProduct], ticket: FillTicket) {
        self.inner.fill_products(products, ticket).await
    }

    /// After a write that changed `skus` (or may have: its outcome is unknown): drops their
    /// documents and, when `pages` is set, every cached page.
    async fn invalidate(&self, skus: &[&Sku], pages: bool) {
        let keys: Vec<String> = skus
            .iter()
            .map(|s| self.inner.product_key(s.as_str()))
            .collect();
        self.inner.fence.invalidate(keys.iter().map(String::as_str));
        let backend = &self.inner.backend;
        let mut failed = backend.delete(&keys).await.err();
        if pages && let Err(e) = backend.bump(&self.inner.generation_key()).await {
            failed = Some(e);
        }
        if let Some(e) = failed {
            tracing::warn!(
                cache = backend.kind(),
                error = %e,
                "catalog cache: invalidation failed; entries may read stale until their TTL"
            );
        }
    }

    async fn after_write<T>(
        &self,
        result: Result<T, StoreError>,
        skus: &[&Sku],
        pages: bool,
    ) -> Result<T, StoreError> {
        // A write whose outcome is unknown may have committed: invalidate as if it had.
        if result.is_ok() || matches!(result, Err(StoreError::Unavailable(_))) {
            self.invalidate(skus, pages).await;
        }
        result
    }

    async fn search_uncached(
        &self,
        query: &SearchQuery,
    ) -> Result<Vec<CatalogProduct>, StoreError> {
        let inner = self.inner.clone();
        let ticket = inner.fence.ticket();
        let products = inner.store.search(query).await?;
        inner.fill_products(&products, ticket).await;
        Ok(products)
    }
}

impl Inner {
    fn product_key(&self, sku: &str) -> String {
        format!("{}:p:{sku}", self.settings.prefix)
    }

    fn generation_key(&self) -> String {
        format!("{}:gen", self.settings.prefix)
    }

    fn page_key(&self, generation: u64, query: &SearchQuery) -> String {
        let digest = Sha256::digest(query.cache_key().as_bytes());
        format!(
            "{}:q:{generation}:{}",
            self.settings.prefix,
            hex::encode(&digest[..12])
        )
    }

    /// Stores products read after `ticket` was taken, except those invalidated since.
    async fn fill_products(&self, products: &[CatalogProduct], ticket: FillTicket) {
        let ttl = self.settings.product_ttl;
        let entries: Vec<(String, Vec<u8>, std::time::Duration)> = products
            .iter()
            .map(|p| (self.product_key(p.content.sku.as_str()), p))
            .filter(|(key, _)| self.fence.admits(key, ticket))
            .filter_map(|(key, p)| {
                serde_json::to_vec(&ProductDoc::from_domain(p))
                    .ok()
                    .map(|bytes| (key, bytes, jittered(ttl, self.settings.jitter)))
            })
            .collect();
        if let Err(e) = self.backend.put_many(entries).await {
            tracing::debug!(error = %e, "catalog cache: fill failed");
        }
    }
}

fn decode(bytes: &[u8]) -> Option<CatalogProduct> {
    let value = serde_json::from_slice(bytes).ok()?;
    product_from_raw(value).ok()
}

#[async_trait]
impl CatalogStore for CachingStore {
    async fn upsert_content(
        &self,
        content: ProductContent,
        now: DateTime<Utc>,
    ) -> Result<CatalogProduct, StoreError> {
        let sku = content.sku.clone();
        let result = self.inner.store.upsert_content(content, now).await;
        self.after_write(result, &[&sku], true).await
    }

    async fn upsert_variant(
        &self,
        sku: &Sku,
        variant: Variant,
        now: DateTime<Utc>,
    ) -> Result<CatalogProduct, StoreError> {
        let result = self.inner.store.upsert_variant(sku, variant, now).await;
        self.after_write(result, &[sku], true).await
    }

    async fn remove_variant(
        &self,
        sku: &Sku,
        variant_sku: &Sku,
        now: DateTime<Utc>,
    ) -> Result<CatalogProduct, StoreError> {
        let result = self.inner.store.remove_variant(sku, variant_sku, now).await;
        self.after_write(result, &[sku], true).await
    }

    async fn rename_brand(
        &self,
        from: &str,
        to: &str,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<Vec<Sku>, StoreError> {
        let result = self.inner.store.rename_brand(from, to, limit, now).await;
        match &result {
            Ok(renamed) if !renamed.is_empty() => {
                self.invalidate(&renamed.iter().collect::<Vec<_>>(), true)
                    .await
            }
            Ok(_) => {}
            // Which products a timed-out rename touched is unknown: pages go now, and the
            // retry the caller must make returns (and invalidates) whatever is left.
            Err(StoreError::Unavailable(_)) => self.invalidate(&[], true).await,
            Err(_) => {}
        }
        result
    }

    async fn delete_content(&self, sku: &Sku, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let result = self.inner.store.delete_content(sku, now).await;
        self.after_write(result, &[sku], true).await
    }

    async fn products_by_skus(&self, skus: &[Sku]) -> Result<Vec<CatalogProduct>, StoreError> {
        let mut seen = HashSet::with_capacity(skus.len());
        let distinct: Vec<Sku> = skus.iter().filter(|s| seen.insert(*s)).cloned().collect();
        if distinct.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = distinct
            .iter()
            .map(|s| self.inner.product_key(s.as_str()))
            .collect();
        let mut found: HashMap<Sku, CatalogProduct> = HashMap::with_capacity(distinct.len());
        match self.inner.backend.get_many(&keys).await {
            Ok(values) => {
                for (sku, value) in distinct.iter().zip(values) {
                    if let Some(product) = value.as_deref().and_then(decode) {
                        found.insert(sku.clone(), product);
                    }
                }
                let hits = found.len() as u64;
                polygate_kit::metrics::record_cache_lookups(
                    PRODUCT_CACHE,
                    hits,
                    distinct.len() as u64 - hits,
                    0,
                );
            }
            Err(e) => {
                polygate_kit::metrics::record_cache_lookups(
                    PRODUCT_CACHE,
                    0,
                    0,
                    distinct.len() as u64,
                );
                tracing::debug!(error = %e, "catalog cache: read failed");
            }
        }
        let misses: Vec<Sku> = distinct
            .iter()
            .filter(|s| !found.contains_key(*s))
            .cloned()
            .collect();
        if !misses.is_empty() {
            let inner = self.inner.clone();
            let (loaded, shared) = self
                .products
                .load(&misses, move |own| {
                    async move {
                        let ticket = inner.fence.ticket();
                        let products = inner.store.products_by_skus(&own).await?;
                        inner.fill_products(&products, ticket).await;
                        Ok(Arc::new(
                            products
                                .into_iter()
                                .map(|p| (p.content.sku.clone(), p))
                                .collect(),
                        ))
                    }
                    .boxed()
                })
                .await?;
            if shared > 0 {
                crate::metrics::CACHE_LOADS_SHARED
                    .with_label_values(&[PRODUCT_CACHE])
                    .inc_by(shared as u64);
            }
            found.extend(loaded);
        }
        Ok(distinct.iter().filter_map(|s| found.remove(s)).collect())
    }

    async fn search(&self, query: &SearchQuery) -> Result<Vec<CatalogProduct>, StoreError> {
        let generation = match self
            .inner
            .backend
            .counter(&self.inner.generation_key())
            .await
        {
            Ok(generation) => generation,
            Err(e) => {
                polygate_kit::metrics::record_cache_lookups(PAGE_CACHE, 0, 0, 1);
                tracing::debug!(error = %e, "catalog cache: generation read failed");
                return self.search_uncached(query).await;
            }
        };
        let key = self.inner.page_key(generation, query);
        let cached = match self
            .inner
            .backend
            .get_many(std::slice::from_ref(&key))
            .await
        {
            Ok(mut values) => values.pop().flatten(),
            Err(e) => {
                polygate_kit::metrics::record_cache_lookups(PAGE_CACHE, 0, 0, 1);
                tracing::debug!(error = %e, "catalog cache: page read failed");
                return self.search_uncached(query).await;
            }
        };
        if let Some(skus) = cached.and_then(|b| serde_json::from_slice::<Vec<Sku>>(&b).ok()) {
            let products = self.products_by_skus(&skus).await?;
            // Every product of a page is there unless an invalidation was missed.
            if products.len() == skus.len() {
                polygate_kit::metrics::record_cache_lookups(PAGE_CACHE, 1, 0, 0);
                return Ok(products);
            }
        }
        polygate_kit::metrics::record_cache_lookups(PAGE_CACHE, 0, 1, 0);
        let inner = self.inner.clone();
        let owned_query = query.clone();
        let page_key = key.clone();
        let (mut loaded, shared) = self
            .pages
            .load(std::slice::from_ref(&key), move |_| {
                async move {
                    let ticket = inner.fence.ticket();
                    let products = inner.store.search(&owned_query).await?;
                    inner.fill_products(&products, ticket).await;
                    let skus: Vec<&Sku> = products.iter().map(|p| &p.content.sku).collect();
                    if let Ok(bytes) = serde_json::to_vec(&skus) {
                        let ttl = jittered(inner.settings.page_ttl, inner.settings.jitter);
                        if let Err(e) = inner
                            .backend
                            .put_many(vec![(page_key.clone(), bytes, ttl)])
                            .await
                        {
                            tracing::debug!(error = %e, "catalog cache: page fill failed");
                        }
                    }
                    Ok(Arc::new(HashMap::from([(page_key, products)])))
                }
                .boxed()
            })
            .await?;
        if shared > 0 {
            crate::metrics::CACHE_LOADS_SHARED
                .with_label_values(&[PAGE_CACHE])
                .inc_by(shared as u64);
        }
        Ok(loaded.remove(&key).unwrap_or_default())
    }

    async fn add_review(&self, review: NewReview) -> Result<ReviewOutcome, StoreError> {
        let sku = review.0.sku.clone();
        let result = self.inner.store.add_review(review).await;
        // The rating and latest reviews changed; page membership did not.
        self.after_write(result, &[&sku], false).await
    }

    async fn reviews(
        &self,
        sku: &Sku,
        first: u32,
        after: Option<&ReviewCursor>,
    ) -> Result<Vec<Review>, StoreError> {
        self.inner.store.reviews(sku, first, after).await
    }

    async fn content_changes_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<ContentChange>, StoreError> {
        self.inner.store.content_changes_after(after, limit).await
    }

    async fn migrate_old_documents(&self, limit: usize) -> Result<usize, StoreError> {
        // The shape changes, not the content: cached (already upgraded) entries stay right.
        self.inner.store.migrate_old_documents(limit).await
    }

    async fn documents_by_version(&self) -> Result<Vec<(u32, u64)>, StoreError> {
        self.inner.store.documents_by_version().await
    }

    async fn export_documents(
        &self,
        collection: Collection,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        self.inner
            .store
            .export_documents(collection, after, limit)
            .await
    }

    async fn import_documents(
        &self,
        collection: Collection,
        documents: Vec<serde_json::Value>,
    ) -> Result<usize, StoreError> {
        let skus: Vec<Sku> = match collection {
            Collection::Products => documents
                .iter()
                .filter_map(|d| d.get("_id").and_then(|v| v.as_str()))
                .filter_map(|s| Sku::parse(s).ok())
                .collect(),
            Collection::Reviews => Vec::new(),
        };
        let result = self
            .inner
            .store
            .import_documents(collection, documents)
            .await;
        let refs: Vec<&Sku> = skus.iter().collect();
        self.after_write(result, &refs, true).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.store.ping().await
    }

    fn engine(&self) -> &'static str {
        self.inner.store.engine()
    }
}

impl From<CacheError> for StoreError {
    fn from(e: CacheError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}
