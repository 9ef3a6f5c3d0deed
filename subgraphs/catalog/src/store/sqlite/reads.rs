//! Reads: products by SKU, the search, reviews, the outbox, and dumps.

use sqlx::{QueryBuilder, Row, Sqlite};

use super::{SqliteStore, from_sqlx, json_array};
use crate::domain::{
    CatalogProduct, FilterOp, FilterValue, Review, ReviewCursor, SearchQuery, Sku,
};
use crate::store::document::{ReviewDoc, product_from_raw};
use crate::store::{Collection, ContentChange, StoreError, corrupt};

fn parse_product(raw: &str) -> Result<CatalogProduct, StoreError> {
    let value = serde_json::from_str(raw).map_err(corrupt)?;
    product_from_raw(value).map_err(corrupt)
}

pub(super) async fn products_by_skus(
    store: &SqliteStore,
    skus: &[Sku],
) -> Result<Vec<CatalogProduct>, StoreError> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT doc FROM products WHERE sku IN (SELECT value FROM json_each(?))",
    )
    .bind(json_array(skus.iter().map(Sku::as_str)))
    .fetch_all(&store.pool)
    .await
    .map_err(from_sqlx)?;
    rows.iter().map(|raw| parse_product(raw)).collect()
}

/// One statement: each condition is an `IN` over the table that indexes it (category rows,
/// attribute rows, the FTS table), so SQLite drives from the most selective one.
pub(super) async fn search(
    store: &SqliteStore,
    query: &SearchQuery,
) -> Result<Vec<CatalogProduct>, StoreError> {
    let rows = search_sql(query, "")
        .build()
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    rows.iter()
        .map(|row| parse_product(&row.get::<String, _>(0)))
        .collect()
}

/// SQLite's plan for a search, one line per step (`EXPLAIN QUERY PLAN`).
pub(super) async fn explain_search(
    store: &SqliteStore,
    query: &SearchQuery,
) -> Result<Vec<String>, StoreError> {
    let rows = search_sql(query, "EXPLAIN QUERY PLAN ")
        .build()
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    Ok(rows.iter().map(|row| row.get::<String, _>(3)).collect())
}

fn search_sql<'q>(query: &SearchQuery, prefix: &str) -> QueryBuilder<'q, Sqlite> {
    let mut sql: QueryBuilder<Sqlite> =
        QueryBuilder::new(format!("{prefix}SELECT p.doc FROM products p WHERE 1 = 1"));
    if let Some(after) = &query.after {
        sql.push(" AND p.sku > ")
            .push_bind(after.as_str().to_owned());
    }
    if let Some(category) = &query.category {
        sql.push(" AND p.sku IN (SELECT sku FROM product_categories WHERE category = ")
            .push_bind(category.as_str().to_owned())
            .push(")");
    }
    if let Some(price) = &query.price {
        if let Some(min) = price.min_minor {
            sql.push(" AND p.list_price_minor >= ").push_bind(min);
        }
        if let Some(max) = price.max_minor {
            sql.push(" AND p.list_price_minor <= ").push_bind(max);
        }
    }
    for filter in &query.filters {
        sql.push(" AND p.sku IN (SELECT sku FROM product_attributes WHERE k = ")
            .push_bind(filter.key.clone());
        let op = match filter.op {
            FilterOp::Eq => " = ",
            FilterOp::Gt => " > ",
            FilterOp::Gte => " >= ",
            FilterOp::Lt => " < ",
            FilterOp::Lte => " <= ",
        };
        match &filter.value {
            FilterValue::Text(t) => sql.push(" AND v_text").push(op).push_bind(t.clone()),
            FilterValue::Number(n) => sql.push(" AND v_num").push(op).push_bind(*n),
        };
        sql.push(")");
    }
    if let Some(text) = &query.text {
        // Words are letters and digits only (SearchText), quoted: an FTS5 AND of terms.
        let terms: Vec<String> = text.words().iter().map(|w| format!("\"{w}\"")).collect();
        sql.push(" AND p.sku IN (SELECT sku FROM product_text WHERE product_text MATCH ")
            .push_bind(terms.join(" "))
            .push(")");
    }
    sql.push(" ORDER BY p.sku LIMIT ")
        .push_bind(i64::from(query.limit));
    sql
}

pub(super) async fn reviews(
    store: &SqliteStore,
    sku: &Sku,
    first: u32,
    after: Option<&ReviewCursor>,
) -> Result<Vec<Review>, StoreError> {
    let (ms, id) = match after {
        Some(c) => (c.created_at_ms, c.id.as_str().to_owned()),
        None => (i64::MAX, String::new()),
    };
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT doc FROM reviews WHERE sku = ?
           AND (created_at_ms < ? OR (created_at_ms = ? AND (? = '' OR id < ?)))
         ORDER BY created_at_ms DESC, id DESC LIMIT ?",
    )
    .bind(sku.as_str())
    .bind(ms)
    .bind(ms)
    .bind(&id)
    .bind(&id)
    .bind(i64::from(first))
    .fetch_all(&store.pool)
    .await
    .map_err(from_sqlx)?;
    rows.iter()
        .map(|raw| {
            serde_json::from_str::<ReviewDoc>(raw)
                .map_err(corrupt)?
                .into_domain()
                .map_err(corrupt)
        })
        .collect()
}

pub(super) async fn content_changes_after(
    store: &SqliteStore,
    after: u64,
    limit: usize,
) -> Result<Vec<ContentChange>, StoreError> {
    let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT position, sku, doc FROM content_changes WHERE position > ? ORDER BY position LIMIT ?",
    )
    .bind(i64::try_from(after).unwrap_or(i64::MAX))
    .bind(limit as i64)
    .fetch_all(&store.pool)
    .await
    .map_err(from_sqlx)?;
    rows.into_iter()
        .map(|(position, sku, doc)| {
            Ok(ContentChange {
                position: position as u64,
                sku: Sku::parse(&sku).map_err(corrupt)?,
                content: doc
                    .map(|raw| parse_product(&raw).map(|p| p.content))
                    .transpose()?,
            })
        })
        .collect()
}

pub(super) async fn documents_by_version(
    store: &SqliteStore,
) -> Result<Vec<(u32, u64)>, StoreError> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT schema_version, count(*) FROM products GROUP BY schema_version ORDER BY 1",
    )
    .fetch_all(&store.pool)
    .await
    .map_err(from_sqlx)?;
    Ok(rows
        .into_iter()
        .map(|(v, n)| (v as u32, n as u64))
        .collect())
}

pub(super) async fn export_documents(
    store: &SqliteStore,
    collection: Collection,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<serde_json::Value>, StoreError> {
    let sql = match collection {
        Collection::Products => "SELECT doc FROM products WHERE sku > ? ORDER BY sku LIMIT ?",
        Collection::Reviews => "SELECT doc FROM reviews WHERE id > ? ORDER BY id LIMIT ?",
    };
    let rows: Vec<String> = sqlx::query_scalar(sql)
        .bind(after.unwrap_or(""))
        .bind(limit as i64)
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    rows.iter()
        .map(|raw| serde_json::from_str(raw).map_err(corrupt))
        .collect()
}
