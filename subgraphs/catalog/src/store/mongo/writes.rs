//! Writes, each one multi-document transaction: content + outbox entry, review + product
//! summary, deletions, migration and restore.

use chrono::{DateTime, Utc};
use mongodb::ClientSession;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;

use super::errors::{TxError, from_mongo, in_transaction, is_duplicate_key};
use super::{MongoStore, to_document, to_json};
use crate::domain::CatalogProduct;
use crate::domain::{InvalidInput, NewReview, ProductContent, ReviewOutcome, Sku};
use crate::store::document::{self, ProductDoc, ReviewDoc, product_from_raw};
use crate::store::{Collection, StoreError, corrupt, next_product, with_review};

/// The counter document that hands out outbox positions.
const OUTBOX_COUNTER: &str = "content_changes";

pub(super) async fn upsert_content(
    store: &MongoStore,
    content: ProductContent,
    now: DateTime<Utc>,
) -> Result<CatalogProduct, StoreError> {
    in_transaction!(store, |session| {
        let existing = read_product(store, &mut session, &content.sku).await?;
        let owned = variant_skus(existing.as_ref());
        let product = next_product(existing, content.clone(), now);
        write_content(store, &mut session, &product, &owned).await?;
        Ok(product)
    })
}

pub(super) async fn edit_content(
    store: &MongoStore,
    sku: &Sku,
    now: DateTime<Utc>,
    edit: impl Fn(&ProductContent) -> Result<Option<ProductContent>, InvalidInput>,
) -> Result<CatalogProduct, StoreError> {
    in_transaction!(store, |session| {
        let existing = read_product(store, &mut session, sku)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no content for {sku}")))?;
        let content = edit(&existing.content)
            .map_err(|e| StoreError::Conflict(e.to_string()))?
            .ok_or_else(|| StoreError::NotFound(format!("{sku} has no such variant")))?;
        let owned = variant_skus(Some(&existing));
        let product = next_product(Some(existing), content, now);
        write_content(store, &mut session, &product, &owned).await?;
        Ok(product)
    })
}

pub(super) async fn rename_brand(
    store: &MongoStore,
    from: &str,
    to: &str,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<Vec<Sku>, StoreError> {
    use futures::TryStreamExt;
    in_transaction!(store, |session| {
        let mut cursor = store
            .products_primary
            .find(doc! { "brand.name": from })
            .sort(doc! { "_id": 1 })
            .limit(limit as i64)
            .session(&mut session)
            .await?;
        let carrying: Vec<Document> = cursor.stream(&mut session).try_collect().await?;
        let mut renamed_skus = Vec::with_capacity(carrying.len());
        for raw in &carrying {
            let product = product_from_raw(to_json(raw.clone())).map_err(corrupt)?;
            let mut content = product.content.clone();
            content.brand = Some(to.to_owned());
            let owned = variant_skus(Some(&product));
            let renamed = next_product(Some(product), content, now);
            write_content(store, &mut session, &renamed, &owned).await?;
            renamed_skus.push(renamed.content.sku);
        }
        Ok(renamed_skus)
    })
}

pub(super) async fn delete_content(store: &MongoStore, sku: &Sku) -> Result<bool, StoreError> {
    in_transaction!(store, |session| {
        let deleted = store
            .products_primary
            .delete_one(doc! { "_id": sku.as_str() })
            .session(&mut session)
            .await?
            .deleted_count
            > 0;
        if deleted {
            store
                .reviews_primary
                .delete_many(doc! { "sku": sku.as_str() })
                .session(&mut session)
                .await?;
            append_change(store, &mut session, sku, None).await?;
        }
        Ok(deleted)
    })
}

pub(super) async fn add_review(
    store: &MongoStore,
    review: NewReview,
) -> Result<ReviewOutcome, StoreError> {
    let new = &review.0;
    in_transaction!(store, |session| {
        let product = read_product(store, &mut session, &new.sku)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no content for {}", new.sku)))?;
        let earlier = store
            .reviews_primary
            .find_one(doc! { "_id": new.id.as_str() })
            .session(&mut session)
            .await?;
        if let Some(earlier) = earlier {
            let earlier = parse_review(earlier)?;
            return if review.repeats(&earlier) {
                Ok(ReviewOutcome::AlreadyAdded(earlier))
            } else {
                Err(TxError::Store(StoreError::Conflict(
                    "you have already reviewed this product".into(),
                )))
            };
        }
        let stored = to_document(&ReviewDoc::from_domain(new))?;
        store
            .reviews_primary
            .insert_one(stored.clone())
            .session(&mut session)
            .await?;
        let update = summary_update(store, product, new, stored)?;
        store
            .products_primary
            .update_one(doc! { "_id": new.sku.as_str() }, update)
            .session(&mut session)
            .await?;
        Ok(ReviewOutcome::Added(new.clone()))
    })
}

/// The update that counts `review` in its product's summary and keeps the latest five: `$inc`
/// and `$push` with `$sort`/`$slice` (one atomic update, whatever else changed the document),
/// or, where the server mishandles `$push` of subdocuments, `$set` of what the transaction
/// computed from the document it read.
fn summary_update(
    store: &MongoStore,
    product: CatalogProduct,
    review: &crate::domain::Review,
    stored: Document,
) -> Result<Document, StoreError> {
    if store.quirks.push_each_keeps_documents {
        let star = format!("rating.s{}", review.rating.stars());
        Ok(doc! {
            "$inc": { "rating.count": 1_i64, "rating.sum": i64::from(review.rating.stars()), star: 1_i64 },
            "$push": { "recentReviews": {
                "$each": [ stored ],
                "$sort": { "createdAtMs": -1, "_id": -1 },
                "$slice": crate::domain::RatingSummary::RECENT as i32,
            } },
        })
    } else {
        let updated = ProductDoc::from_domain(&with_review(product, review));
        let rating = mongodb::bson::to_bson(&updated.rating).map_err(corrupt)?;
        let recent = mongodb::bson::to_bson(&updated.recent_reviews).map_err(corrupt)?;
        Ok(doc! { "$set": { "rating": rating, "recentReviews": recent } })
    }
}

pub(super) async fn migrate_old_documents(
    store: &MongoStore,
    limit: usize,
) -> Result<usize, StoreError> {
    use futures::TryStreamExt;
    let old = doc! { "$or": [
        { "schemaVersion": { "$exists": false } },
        { "schemaVersion": { "$lt": document::CURRENT_VERSION as i32 } },
    ] };
    let batch: Vec<Document> = store
        .products_primary
        .find(old.clone())
        .limit(limit as i64)
        .await
        .map_err(from_mongo)?
        .try_collect()
        .await
        .map_err(from_mongo)?;
    let mut migrated = 0;
    for raw in batch {
        let product = product_from_raw(to_json(raw)).map_err(corrupt)?;
        let current = to_document(&ProductDoc::from_domain(&product))?;
        // Only if still old: a writer that rewrote it meanwhile wrote the current shape.
        let mut filter = old.clone();
        filter.insert("_id", product.content.sku.as_str());
        let replaced = store
            .products_primary
            .replace_one(filter, current)
            .await
            .map_err(from_mongo)?;
        migrated += replaced.modified_count as usize;
    }
    Ok(migrated)
}

pub(super) async fn import_documents(
    store: &MongoStore,
    collection: Collection,
    documents: Vec<serde_json::Value>,
) -> Result<usize, StoreError> {
    let count = documents.len();
    match collection {
        Collection::Products => {
            // The last of each SKU wins, as one-by-one replaces would have it.
            let mut checked: Vec<(CatalogProduct, Document)> = Vec::with_capacity(documents.len());
            for raw in documents {
                let product = product_from_raw(raw.clone()).map_err(corrupt)?;
                checked.retain(|(p, _)| p.content.sku != product.content.sku);
                checked.push((product, to_document(&raw)?));
            }
            if checked.is_empty() {
                return Ok(0);
            }
            // Four round trips per batch, whatever its size: delete, insert, one counter step
            // for every position, and the outbox entries.
            in_transaction!(store, |session| {
                let ids: Vec<&str> = checked
                    .iter()
                    .map(|(p, _)| p.content.sku.as_str())
                    .collect();
                store
                    .products_primary
                    .delete_many(doc! { "_id": { "$in": &ids } })
                    .session(&mut session)
                    .await?;
                store
                    .products_primary
                    .insert_many(checked.iter().map(|(_, raw)| raw.clone()))
                    .session(&mut session)
                    .await?;
                let last = take_positions(store, &mut session, checked.len() as i64).await?;
                let first = last - checked.len() as i64 + 1;
                let mut entries = Vec::with_capacity(checked.len());
                for (offset, (product, _)) in checked.iter().enumerate() {
                    let doc = to_document(&ProductDoc::from_domain(product))?;
                    entries.push(doc! {
                        "_id": first + offset as i64,
                        "sku": product.content.sku.as_str(),
                        "doc": doc,
                    });
                }
                store
                    .changes
                    .insert_many(entries)
                    .session(&mut session)
                    .await?;
                Ok(())
            })?;
        }
        Collection::Reviews => {
            for raw in documents {
                let review: ReviewDoc = serde_json::from_value(raw).map_err(corrupt)?;
                review.clone().into_domain().map_err(corrupt)?;
                store
                    .reviews_primary
                    .replace_one(doc! { "_id": &review.id }, to_document(&review)?)
                    .upsert(true)
                    .await
                    .map_err(from_mongo)?;
            }
        }
    }
    Ok(count)
}

/// The product `sku` as stored now (on the primary, in the transaction), upgraded.
async fn read_product(
    store: &MongoStore,
    session: &mut ClientSession,
    sku: &Sku,
) -> Result<Option<CatalogProduct>, TxError> {
    let raw = store
        .products_primary
        .find_one(doc! { "_id": sku.as_str() })
        .session(session)
        .await?;
    Ok(raw
        .map(|raw| product_from_raw(to_json(raw)).map_err(corrupt))
        .transpose()?)
}

fn parse_review(raw: Document) -> Result<crate::domain::Review, TxError> {
    let review: ReviewDoc = serde_json::from_value(to_json(raw)).map_err(corrupt)?;
    Ok(review.into_domain().map_err(corrupt)?)
}

/// The variant SKUs `product` holds now (none when there is no product).
fn variant_skus(product: Option<&CatalogProduct>) -> Vec<String> {
    product
        .map(|p| {
            p.content
                .variants
                .iter()
                .map(|v| v.sku.as_str().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Checks the product's variant SKUs that it did not already hold (`owned`) belong to no other
/// product, writes it in the current shape and appends it
/// to the outbox, all in `session`'s transaction.
async fn write_content(
    store: &MongoStore,
    session: &mut ClientSession,
    product: &CatalogProduct,
    owned: &[String],
) -> Result<(), TxError> {
    let sku = product.content.sku.as_str();
    let new_skus = product
        .content
        .variants
        .iter()
        .map(|v| v.sku.as_str())
        .filter(|v| !owned.iter().any(|o| o == v));
    // Also enforced by the unique index on MongoDB itself; checked here because servers that
    // speak the protocol without enforcing a unique multikey index exist. Only SKUs the product
    // did not hold before (they were checked when added; a brand rename or a review adds none),
    // one `$elemMatch` each (the multikey index on `variants.sku` on MongoDB). On nx-27017 that
    // index answers `variants.sku` equalities and `$in` with nothing, and the earlier `$or` of
    // equalities scanned every product: 1.3 s per variant write at 20 000 products, which is
    // what timed writes out under 8 connections; `$elemMatch` scans too but in ~0.25 s.
    for variant_sku in new_skus {
        let mut owners = store
            .products_primary
            .find(doc! { "variants": { "$elemMatch": { "sku": variant_sku } } })
            .projection(doc! { "_id": 1 })
            .limit(2)
            .session(&mut *session)
            .await?;
        while let Some(owner) = owners.next(&mut *session).await.transpose()? {
            let owner = owner.get_str("_id").unwrap_or("another product");
            if owner != sku {
                return Err(TxError::Store(StoreError::Conflict(format!(
                    "variant SKU {variant_sku} belongs to product {owner}"
                ))));
            }
        }
    }
    let doc = to_document(&ProductDoc::from_domain(product))?;
    let written = store
        .products_primary
        .replace_one(doc! { "_id": sku }, doc)
        .upsert(true)
        .session(&mut *session)
        .await;
    match written {
        Err(e) if is_duplicate_key(&e) => {
            return Err(TxError::Store(StoreError::Conflict(
                "a variant SKU belongs to another product".into(),
            )));
        }
        other => other?,
    };
    append_change(store, session, &product.content.sku, Some(product)).await
}

/// Appends one outbox entry at the next position.
async fn append_change(
    store: &MongoStore,
    session: &mut ClientSession,
    sku: &Sku,
    product: Option<&CatalogProduct>,
) -> Result<(), TxError> {
    let position = take_positions(store, session, 1).await?;
    let doc = match product {
        Some(p) => Bson::Document(to_document(&ProductDoc::from_domain(p))?),
        None => Bson::Null,
    };
    store
        .changes
        .insert_one(doc! { "_id": position, "sku": sku.as_str(), "doc": doc })
        .session(&mut *session)
        .await?;
    Ok(())
}

/// Takes `count` outbox positions in the transaction; returns the last. The counter update
/// joins the transaction, so two writers conflict on it and commit one after the other:
/// positions follow commit order.
async fn take_positions(
    store: &MongoStore,
    session: &mut ClientSession,
    count: i64,
) -> Result<i64, TxError> {
    let counter = store
        .counters
        .find_one_and_update(
            doc! { "_id": OUTBOX_COUNTER },
            doc! { "$inc": { "position": count } },
        )
        .upsert(true)
        .return_document(ReturnDocument::After)
        .session(&mut *session)
        .await?
        .ok_or_else(|| StoreError::Other("the outbox counter vanished".into()))?;
    match counter.get("position") {
        Some(Bson::Int64(n)) => Ok(*n),
        Some(Bson::Int32(n)) => Ok(i64::from(*n)),
        Some(Bson::Double(n)) => Ok(*n as i64),
        other => Err(TxError::Store(corrupt(format!("outbox counter {other:?}")))),
    }
}
