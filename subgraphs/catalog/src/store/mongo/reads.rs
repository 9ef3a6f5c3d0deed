//! Reads: products by SKU, the search, reviews, the outbox, version counts and dumps.

use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};

use super::errors::from_mongo;
use super::{MongoStore, to_json};
use crate::domain::{
    CatalogProduct, FilterOp, FilterValue, Review, ReviewCursor, SearchQuery, Sku,
};
use crate::store::document::{ReviewDoc, product_from_raw};
use crate::store::{Collection, ContentChange, StoreError, corrupt};

async fn collect(cursor: mongodb::Cursor<Document>) -> Result<Vec<Document>, StoreError> {
    cursor.try_collect().await.map_err(from_mongo)
}

fn parse_products(docs: Vec<Document>) -> Result<Vec<CatalogProduct>, StoreError> {
    docs.into_iter()
        .map(|d| product_from_raw(to_json(d)).map_err(corrupt))
        .collect()
}

pub(super) async fn products_by_skus(
    store: &MongoStore,
    skus: &[Sku],
) -> Result<Vec<CatalogProduct>, StoreError> {
    let ids: Vec<&str> = skus.iter().map(Sku::as_str).collect();
    let cursor = store
        .products
        .find(doc! { "_id": { "$in": ids } })
        .await
        .map_err(from_mongo)?;
    parse_products(collect(cursor).await?)
}

/// The find filter of a search: every condition ANDed, each served by one index (see
/// `indexes.rs`); attribute filters as `$elemMatch` so key and value meet in one attribute.
pub(super) fn search_filter(query: &SearchQuery) -> Document {
    let mut filter = Document::new();
    if let Some(after) = &query.after {
        filter.insert("sku", doc! { "$gt": after.as_str() });
    }
    if let Some(category) = &query.category {
        filter.insert("categoryPath", category.as_str());
    }
    if let Some(price) = &query.price {
        let mut range = Document::new();
        if let Some(min) = price.min_minor {
            range.insert("$gte", min);
        }
        if let Some(max) = price.max_minor {
            range.insert("$lte", max);
        }
        filter.insert("listPriceMinor", range);
    }
    let mut all = Vec::new();
    for f in &query.filters {
        let value = match &f.value {
            FilterValue::Text(t) => Bson::String(t.clone()),
            FilterValue::Number(n) => Bson::Double(*n),
        };
        let op = match f.op {
            FilterOp::Eq => "$eq",
            FilterOp::Gt => "$gt",
            FilterOp::Gte => "$gte",
            FilterOp::Lt => "$lt",
            FilterOp::Lte => "$lte",
        };
        all.push(doc! { "attributes": { "$elemMatch": { "k": &f.key, "v": { op: value } } } });
    }
    if !all.is_empty() {
        filter.insert("$and", all);
    }
    if let Some(text) = &query.text {
        // Each word quoted: MongoDB then requires every one (an unquoted list is an OR).
        let terms: Vec<String> = text.words().iter().map(|w| format!("\"{w}\"")).collect();
        filter.insert("$text", doc! { "$search": terms.join(" ") });
    }
    filter
}

pub(super) async fn search(
    store: &MongoStore,
    query: &SearchQuery,
) -> Result<Vec<CatalogProduct>, StoreError> {
    let cursor = store
        .products
        .find(search_filter(query))
        .sort(doc! { "sku": 1 })
        .limit(i64::from(query.limit))
        .await
        .map_err(from_mongo)?;
    parse_products(collect(cursor).await?)
}

/// The filter of one page of a product's reviews, newest first.
pub(super) fn reviews_filter(sku: &Sku, after: Option<&ReviewCursor>) -> Document {
    match after {
        None => doc! { "sku": sku.as_str() },
        Some(c) => doc! { "sku": sku.as_str(), "$or": [
            { "createdAtMs": { "$lt": c.created_at_ms } },
            { "createdAtMs": c.created_at_ms, "_id": { "$lt": c.id.as_str() } },
        ] },
    }
}

pub(super) async fn reviews(
    store: &MongoStore,
    sku: &Sku,
    first: u32,
    after: Option<&ReviewCursor>,
) -> Result<Vec<Review>, StoreError> {
    let cursor = store
        .reviews
        .find(reviews_filter(sku, after))
        .sort(doc! { "createdAtMs": -1, "_id": -1 })
        .limit(i64::from(first))
        .await
        .map_err(from_mongo)?;
    collect(cursor)
        .await?
        .into_iter()
        .map(|d| {
            serde_json::from_value::<ReviewDoc>(to_json(d))
                .map_err(corrupt)?
                .into_domain()
                .map_err(corrupt)
        })
        .collect()
}

pub(super) async fn content_changes_after(
    store: &MongoStore,
    after: u64,
    limit: usize,
) -> Result<Vec<ContentChange>, StoreError> {
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let cursor = store
        .changes
        .find(doc! { "_id": { "$gt": after } })
        .sort(doc! { "_id": 1 })
        .limit(limit as i64)
        .await
        .map_err(from_mongo)?;
    collect(cursor)
        .await?
        .into_iter()
        .map(|d| {
            let position = match d.get("_id") {
                Some(Bson::Int64(n)) => *n as u64,
                Some(Bson::Int32(n)) => *n as u64,
                other => return Err(corrupt(format!("outbox position {other:?}"))),
            };
            let sku = Sku::parse(d.get_str("sku").map_err(corrupt)?).map_err(corrupt)?;
            let content = match d.get("doc") {
                Some(Bson::Document(doc)) => Some(
                    product_from_raw(to_json(doc.clone()))
                        .map_err(corrupt)?
                        .content,
                ),
                _ => None,
            };
            Ok(ContentChange {
                position,
                sku,
                content,
            })
        })
        .collect()
}

pub(super) async fn documents_by_version(
    store: &MongoStore,
) -> Result<Vec<(u32, u64)>, StoreError> {
    let cursor = store
        .products_primary
        .aggregate(vec![
            doc! { "$group": { "_id": "$schemaVersion", "n": { "$sum": 1 } } },
        ])
        .await
        .map_err(from_mongo)?;
    let mut counts: Vec<(u32, u64)> = Vec::new();
    for d in collect(cursor).await? {
        let version = match d.get("_id") {
            Some(Bson::Int32(v)) => *v as u32,
            Some(Bson::Int64(v)) => *v as u32,
            Some(Bson::Double(v)) => *v as u32,
            _ => 1,
        };
        let n = match d.get("n") {
            Some(Bson::Int32(n)) => *n as u64,
            Some(Bson::Int64(n)) => *n as u64,
            Some(Bson::Double(n)) => *n as u64,
            _ => 0,
        };
        match counts.iter_mut().find(|(v, _)| *v == version) {
            Some((_, total)) => *total += n,
            None => counts.push((version, n)),
        }
    }
    counts.sort();
    Ok(counts)
}

pub(super) async fn export_documents(
    store: &MongoStore,
    collection: Collection,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<serde_json::Value>, StoreError> {
    let coll = match collection {
        Collection::Products => &store.products_primary,
        Collection::Reviews => &store.reviews_primary,
    };
    let filter = match after {
        Some(after) => doc! { "_id": { "$gt": after } },
        None => doc! {},
    };
    let cursor = coll
        .find(filter)
        .sort(doc! { "_id": 1 })
        .limit(limit as i64)
        .await
        .map_err(from_mongo)?;
    Ok(collect(cursor).await?.into_iter().map(to_json).collect())
}
