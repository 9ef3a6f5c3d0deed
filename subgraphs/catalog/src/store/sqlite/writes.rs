//! Writes: content (with its derived index rows and outbox entry), reviews, migration, restore.

use chrono::{DateTime, Utc};
use sqlx::{Sqlite, Transaction};

use super::{SqliteStore, from_sqlx, json_array};
use crate::domain::{
    AttributeValue, CatalogProduct, InvalidInput, NewReview, ProductContent, ReviewOutcome, Sku,
};
use crate::store::document::{self, ProductDoc, ReviewDoc, product_from_raw};
use crate::store::{Collection, StoreError, corrupt, next_product, with_review};

pub(super) async fn upsert_content(
    store: &SqliteStore,
    content: ProductContent,
    now: DateTime<Utc>,
) -> Result<CatalogProduct, StoreError> {
    let mut tx = store.write().await?;
    let existing = read_product(&mut tx, &content.sku).await?;
    let product = next_product(existing, content, now);
    check_variant_skus(&mut tx, &product).await?;
    put_product(&mut tx, &product).await?;
    append_change(&mut tx, &product.content.sku, Some(&product)).await?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(product)
}

/// Reads the content of `sku`, applies `edit` (`None`: nothing to edit, `NotFound`) and writes
/// the result as [`upsert_content`] does.
pub(super) async fn edit_content(
    store: &SqliteStore,
    sku: &Sku,
    now: DateTime<Utc>,
    edit: impl FnOnce(&ProductContent) -> Result<Option<ProductContent>, InvalidInput>,
) -> Result<CatalogProduct, StoreError> {
    let mut tx = store.write().await?;
    let existing = read_product(&mut tx, sku)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no content for {sku}")))?;
    let content = edit(&existing.content)
        .map_err(|e| StoreError::Conflict(e.to_string()))?
        .ok_or_else(|| StoreError::NotFound(format!("{sku} has no such variant")))?;
    let product = next_product(Some(existing), content, now);
    check_variant_skus(&mut tx, &product).await?;
    put_product(&mut tx, &product).await?;
    append_change(&mut tx, sku, Some(&product)).await?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(product)
}

pub(super) async fn rename_brand(
    store: &SqliteStore,
    from: &str,
    to: &str,
    limit: usize,
    now: DateTime<Utc>,
) -> Result<Vec<Sku>, StoreError> {
    let mut tx = store.write().await?;
    let carrying: Vec<String> = sqlx::query_scalar(
        "SELECT doc FROM products WHERE json_extract(doc, '$.brand.name') = ? ORDER BY sku LIMIT ?",
    )
    .bind(from)
    .bind(limit as i64)
    .fetch_all(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    let mut renamed_skus = Vec::with_capacity(carrying.len());
    for raw in &carrying {
        let value = serde_json::from_str(raw).map_err(corrupt)?;
        let product = product_from_raw(value).map_err(corrupt)?;
        let mut content = product.content.clone();
        content.brand = Some(to.to_owned());
        let renamed = next_product(Some(product), content, now);
        put_product(&mut tx, &renamed).await?;
        append_change(&mut tx, &renamed.content.sku, Some(&renamed)).await?;
        renamed_skus.push(renamed.content.sku);
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(renamed_skus)
}

pub(super) async fn delete_content(store: &SqliteStore, sku: &Sku) -> Result<bool, StoreError> {
    let mut tx = store.write().await?;
    // The text row first, by its id (the id row goes with the product).
    sqlx::query(
        "DELETE FROM product_text WHERE rowid = (SELECT id FROM product_ids WHERE sku = ?)",
    )
    .bind(sku.as_str())
    .execute(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    // Reviews, categories, attributes, variant SKUs and the id go with it (ON DELETE CASCADE).
    let deleted = sqlx::query("DELETE FROM products WHERE sku = ?")
        .bind(sku.as_str())
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?
        .rows_affected()
        > 0;
    if deleted {
        append_change(&mut tx, sku, None).await?;
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(deleted)
}

pub(super) async fn add_review(
    store: &SqliteStore,
    review: NewReview,
) -> Result<ReviewOutcome, StoreError> {
    let mut tx = store.write().await?;
    let new = &review.0;
    let product = read_product(&mut tx, &new.sku)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no content for {}", new.sku)))?;
    let existing: Option<String> = sqlx::query_scalar("SELECT doc FROM reviews WHERE id = ?")
        .bind(new.id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    if let Some(raw) = existing {
        let earlier = serde_json::from_str::<ReviewDoc>(&raw)
            .map_err(corrupt)?
            .into_domain()
            .map_err(corrupt)?;
        return if review.repeats(&earlier) {
            Ok(ReviewOutcome::AlreadyAdded(earlier))
        } else {
            Err(StoreError::Conflict(
                "you have already reviewed this product".into(),
            ))
        };
    }
    let doc = serde_json::to_string(&ReviewDoc::from_domain(new)).map_err(corrupt)?;
    sqlx::query("INSERT INTO reviews (id, sku, created_at_ms, doc) VALUES (?, ?, ?, ?)")
        .bind(new.id.as_str())
        .bind(new.sku.as_str())
        .bind(new.created_at.timestamp_millis())
        .bind(doc)
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    let updated = with_review(product, new);
    write_document(&mut tx, &updated).await?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(ReviewOutcome::Added(review.0))
}

pub(super) async fn migrate_old_documents(
    store: &SqliteStore,
    limit: usize,
) -> Result<usize, StoreError> {
    let mut tx = store.write().await?;
    let old: Vec<String> = sqlx::query_scalar(
        "SELECT doc FROM products WHERE schema_version < ? ORDER BY sku LIMIT ?",
    )
    .bind(i64::from(document::CURRENT_VERSION))
    .bind(limit as i64)
    .fetch_all(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    for raw in &old {
        let value: serde_json::Value = serde_json::from_str(raw).map_err(corrupt)?;
        let product = product_from_raw(value).map_err(corrupt)?;
        // Only the shape changes: same content, same revision, no outbox entry.
        write_document(&mut tx, &product).await?;
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(old.len())
}

pub(super) async fn import_documents(
    store: &SqliteStore,
    collection: Collection,
    documents: Vec<serde_json::Value>,
) -> Result<usize, StoreError> {
    let mut tx = store.write().await?;
    let count = documents.len();
    for raw in documents {
        match collection {
            Collection::Products => {
                let product = product_from_raw(raw.clone()).map_err(corrupt)?;
                let version = i64::from(product.stored_version);
                sqlx::query(
                    "INSERT INTO products (sku, schema_version, doc, list_price_minor)
                     VALUES (?, ?, ?, ?)
                     ON CONFLICT (sku) DO UPDATE SET schema_version = excluded.schema_version,
                         doc = excluded.doc, list_price_minor = excluded.list_price_minor",
                )
                .bind(product.content.sku.as_str())
                .bind(version)
                .bind(raw.to_string())
                .bind(product.content.list_price_minor)
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
                write_derived(&mut tx, &product).await?;
                append_change(&mut tx, &product.content.sku, Some(&product)).await?;
            }
            Collection::Reviews => {
                let review: ReviewDoc = serde_json::from_value(raw).map_err(corrupt)?;
                let checked = review.clone().into_domain().map_err(corrupt)?;
                sqlx::query(
                    "INSERT OR REPLACE INTO reviews (id, sku, created_at_ms, doc) VALUES (?, ?, ?, ?)",
                )
                .bind(checked.id.as_str())
                .bind(checked.sku.as_str())
                .bind(checked.created_at.timestamp_millis())
                .bind(serde_json::to_string(&review).map_err(corrupt)?)
                .execute(&mut *tx)
                .await
                .map_err(from_sqlx)?;
            }
        }
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(count)
}

/// The product `sku` as stored now, upgraded.
async fn read_product(
    tx: &mut Transaction<'static, Sqlite>,
    sku: &Sku,
) -> Result<Option<CatalogProduct>, StoreError> {
    let raw: Option<String> = sqlx::query_scalar("SELECT doc FROM products WHERE sku = ?")
        .bind(sku.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(from_sqlx)?;
    raw.map(|raw| {
        let value = serde_json::from_str(&raw).map_err(corrupt)?;
        product_from_raw(value).map_err(corrupt)
    })
    .transpose()
}

/// `Conflict` when a variant SKU of `product` belongs to another product (the rule MongoDB's
/// unique multikey index enforces on a real server; enforced here in code as well).
async fn check_variant_skus(
    tx: &mut Transaction<'static, Sqlite>,
    product: &CatalogProduct,
) -> Result<(), StoreError> {
    let skus = json_array(product.content.variants.iter().map(|v| v.sku.as_str()));
    let taken: Option<(String, String)> = sqlx::query_as(
        "SELECT variant_sku, sku FROM variant_skus
         WHERE variant_sku IN (SELECT value FROM json_each(?)) AND sku <> ? LIMIT 1",
    )
    .bind(skus)
    .bind(product.content.sku.as_str())
    .fetch_optional(&mut **tx)
    .await
    .map_err(from_sqlx)?;
    match taken {
        Some((variant, owner)) => Err(StoreError::Conflict(format!(
            "variant SKU {variant} belongs to product {owner}"
        ))),
        None => Ok(()),
    }
}

/// Writes the document in the current shape and its derived rows.
async fn put_product(
    tx: &mut Transaction<'static, Sqlite>,
    product: &CatalogProduct,
) -> Result<(), StoreError> {
    write_document(tx, product).await?;
    write_derived(tx, product).await
}

/// Writes only the document (in the current shape); derived rows are untouched.
async fn write_document(
    tx: &mut Transaction<'static, Sqlite>,
    product: &CatalogProduct,
) -> Result<(), StoreError> {
    let doc = serde_json::to_string(&ProductDoc::from_domain(product)).map_err(corrupt)?;
    sqlx::query(
        "INSERT INTO products (sku, schema_version, doc, list_price_minor) VALUES (?, ?, ?, ?)
         ON CONFLICT (sku) DO UPDATE SET schema_version = excluded.schema_version,
             doc = excluded.doc, list_price_minor = excluded.list_price_minor",
    )
    .bind(product.content.sku.as_str())
    .bind(i64::from(document::CURRENT_VERSION))
    .bind(doc)
    .bind(product.content.list_price_minor)
    .execute(&mut **tx)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}

/// Rebuilds the rows derived from the product's content: categories, attributes, variant SKUs
/// and the text index.
async fn write_derived(
    tx: &mut Transaction<'static, Sqlite>,
    product: &CatalogProduct,
) -> Result<(), StoreError> {
    let c = &product.content;
    let sku = c.sku.as_str();
    for table in ["product_categories", "product_attributes", "variant_skus"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE sku = ?"))
            .bind(sku)
            .execute(&mut **tx)
            .await
            .map_err(from_sqlx)?;
    }
    for category in &c.category_path {
        sqlx::query(
            "INSERT OR IGNORE INTO product_categories (category, sku, list_price_minor) VALUES (?, ?, ?)",
        )
        .bind(category.as_str())
        .bind(sku)
        .bind(c.list_price_minor)
        .execute(&mut **tx)
        .await
        .map_err(from_sqlx)?;
    }
    for attribute in &c.attributes {
        let (text, number) = match &attribute.value {
            AttributeValue::Text(t) => (Some(t.as_str()), None),
            AttributeValue::Number(n) => (None, Some(*n)),
        };
        sqlx::query(
            "INSERT INTO product_attributes (k, v_text, v_num, unit, sku) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&attribute.key)
        .bind(text)
        .bind(number)
        .bind(attribute.unit.as_deref())
        .bind(sku)
        .execute(&mut **tx)
        .await
        .map_err(from_sqlx)?;
    }
    for variant in &c.variants {
        sqlx::query("INSERT INTO variant_skus (variant_sku, sku) VALUES (?, ?)")
            .bind(variant.sku.as_str())
            .bind(sku)
            .execute(&mut **tx)
            .await
            .map_err(|e| match from_sqlx(e) {
                StoreError::Conflict(_) => StoreError::Conflict(format!(
                    "variant SKU {} belongs to another product",
                    variant.sku
                )),
                other => other,
            })?;
    }
    // The text row by the product's integer id: FTS5 finds rows by rowid, not by `sku`.
    sqlx::query("INSERT OR IGNORE INTO product_ids (sku) VALUES (?)")
        .bind(sku)
        .execute(&mut **tx)
        .await
        .map_err(from_sqlx)?;
    let id: i64 = sqlx::query_scalar("SELECT id FROM product_ids WHERE sku = ?")
        .bind(sku)
        .fetch_one(&mut **tx)
        .await
        .map_err(from_sqlx)?;
    sqlx::query("DELETE FROM product_text WHERE rowid = ?")
        .bind(id)
        .execute(&mut **tx)
        .await
        .map_err(from_sqlx)?;
    sqlx::query("INSERT INTO product_text (rowid, sku, name, description) VALUES (?, ?, ?, ?)")
        .bind(id)
        .bind(sku)
        .bind(&c.name)
        .bind(&c.description)
        .execute(&mut **tx)
        .await
        .map_err(from_sqlx)?;
    Ok(())
}

/// Appends one outbox entry: the content as written, or `None` for a deletion.
async fn append_change(
    tx: &mut Transaction<'static, Sqlite>,
    sku: &Sku,
    product: Option<&CatalogProduct>,
) -> Result<(), StoreError> {
    let doc = product
        .map(|p| serde_json::to_string(&ProductDoc::from_domain(p)).map_err(corrupt))
        .transpose()?;
    sqlx::query("INSERT INTO content_changes (sku, doc) VALUES (?, ?)")
        .bind(sku.as_str())
        .bind(doc)
        .execute(&mut **tx)
        .await
        .map_err(from_sqlx)?;
    Ok(())
}
