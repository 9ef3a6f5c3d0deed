//! The indexes every query of the adapter needs, created at connect (idempotent), and the probe
//! of server quirks.

use mongodb::IndexModel;
use mongodb::bson::{Document, doc};
use mongodb::options::IndexOptions;

use super::errors::from_mongo;
use super::{MongoStore, ServerQuirks};
use crate::store::StoreError;

/// `(collection, name, keys)` of every index, for the design doc and the plan tests.
pub const INDEXES: [(&str, &str, &str); 6] = [
    (
        "products",
        "category_sku_price",
        "{categoryPath: 1, sku: 1, listPriceMinor: 1}",
    ),
    (
        "products",
        "attributes_k_v",
        "{'attributes.k': 1, 'attributes.v': 1}",
    ),
    (
        "products",
        "variant_sku_unique",
        "{'variants.sku': 1} unique, partial",
    ),
    (
        "products",
        "product_text",
        "{name: 'text', description: 'text'}",
    ),
    ("products", "schema_version", "{schemaVersion: 1}"),
    ("reviews", "product_date", "{sku: 1, createdAtMs: -1}"),
];

fn model(keys: Document, options: IndexOptions) -> IndexModel {
    IndexModel::builder().keys(keys).options(options).build()
}

fn named(name: &str) -> IndexOptions {
    IndexOptions::builder().name(name.to_owned()).build()
}

/// The `$jsonSchema` of `products`: permissive enough for every stored version (a version-1
/// document restored from a dump must still be accepted), strict on what any reader relies on.
fn products_schema() -> Document {
    doc! { "$jsonSchema": {
        "bsonType": "object",
        "required": ["_id", "name"],
        "properties": {
            "_id": { "bsonType": "string", "maxLength": 64 },
            "sku": { "bsonType": "string", "maxLength": 64 },
            "schemaVersion": { "bsonType": ["int", "long"], "minimum": 1 },
            "name": { "bsonType": "string", "maxLength": 200 },
            "description": { "bsonType": "string", "maxLength": 10_000 },
            "attributes": {
                "bsonType": "array",
                "maxItems": 100,
                "items": {
                    "bsonType": "object",
                    "required": ["k", "v"],
                    "properties": {
                        "k": { "bsonType": "string", "maxLength": 40 },
                        "v": { "bsonType": ["string", "double", "int", "long"] },
                    },
                },
            },
            "variants": { "bsonType": "array", "maxItems": 100 },
            "recentReviews": { "bsonType": "array", "maxItems": 5 },
        },
    } }
}

fn reviews_schema() -> Document {
    doc! { "$jsonSchema": {
        "bsonType": "object",
        "required": ["_id", "sku", "authorId", "rating", "title", "createdAtMs"],
        "properties": {
            "rating": { "bsonType": ["int", "long"], "minimum": 1, "maximum": 5 },
            "title": { "bsonType": "string", "maxLength": 120 },
            "body": { "bsonType": "string", "maxLength": 4_000 },
        },
    } }
}

/// Puts the `$jsonSchema` validators on `products` and `reviews` (creating them if need be).
/// Returns whether the server took them; a server that refuses `collMod` with a validator still
/// has the same rules enforced by the domain types.
async fn ensure_validators(db: &mongodb::Database) -> bool {
    let mut accepted = true;
    for (collection, schema) in [
        ("products", products_schema()),
        ("reviews", reviews_schema()),
    ] {
        let modified = db
            .run_command(doc! {
                "collMod": collection,
                "validator": schema.clone(),
                "validationLevel": "moderate",
                "validationAction": "error",
            })
            .await;
        let outcome = match modified {
            Ok(_) => Ok(()),
            // NamespaceNotFound: the collection is created with its validator.
            Err(e) if super::errors::code(&e) == Some(26) => {
                db.create_collection(collection).validator(schema).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = outcome {
            tracing::info!(collection, error = %e, "catalog: the server refused a $jsonSchema validator");
            accepted = false;
        }
    }
    accepted
}

pub(super) async fn ensure(store: &MongoStore) -> Result<(), StoreError> {
    let validators = ensure_validators(&store.db).await;
    tracing::debug!(validators, "catalog: collection validators");
    // Category + price range: equality on the category, then the sort key (sku, for keyset
    // pages), then the range on the price (the ESR rule), so a page is read in index order.
    let products = [
        model(
            doc! { "categoryPath": 1, "sku": 1, "listPriceMinor": 1 },
            named("category_sku_price"),
        ),
        // The attribute pattern: one index for every attribute filter, used with $elemMatch.
        model(
            doc! { "attributes.k": 1, "attributes.v": 1 },
            named("attributes_k_v"),
        ),
        // A variant SKU is unique across products. Partial, so products without variants do
        // not collide on a missing key.
        model(
            doc! { "variants.sku": 1 },
            IndexOptions::builder()
                .name("variant_sku_unique".to_owned())
                .unique(true)
                .partial_filter_expression(doc! { "variants.sku": { "$exists": true } })
                .build(),
        ),
        model(doc! { "schemaVersion": 1 }, named("schema_version")),
    ];
    store
        .products_primary
        .create_indexes(products)
        .await
        .map_err(from_mongo)?;
    let text = model(
        doc! { "name": "text", "description": "text" },
        IndexOptions::builder()
            .name("product_text".to_owned())
            .weights(doc! { "name": 3, "description": 1 })
            .default_language("english".to_owned())
            .build(),
    );
    if let Err(e) = store.products_primary.create_index(text).await {
        // MongoDB makes an identical index again as a no-op; nx-27017 refuses ("constraint
        // failed") once its text index exists. The index is there if a `$text` query runs.
        let probe = store
            .products_primary
            .find_one(doc! { "$text": { "$search": "probe" } })
            .await;
        if probe.is_err() {
            return Err(from_mongo(e));
        }
    }
    store
        .reviews_primary
        .create_index(model(
            doc! { "sku": 1, "createdAtMs": -1 },
            named("product_date"),
        ))
        .await
        .map_err(from_mongo)?;
    Ok(())
}

/// Asks the server how it treats `$push` + `$each` of a subdocument, on a scratch document.
pub(super) async fn probe_quirks(db: &mongodb::Database) -> Result<ServerQuirks, StoreError> {
    let scratch = db.collection::<Document>("_polygate_probe");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let id = format!("probe-{}-{nanos}", std::process::id());
    scratch
        .insert_one(doc! { "_id": &id, "a": [] })
        .await
        .map_err(from_mongo)?;
    scratch
        .update_one(
            doc! { "_id": &id },
            doc! { "$push": { "a": { "$each": [ { "x": 1 } ], "$slice": -5 } } },
        )
        .await
        .map_err(from_mongo)?;
    let read = scratch
        .find_one(doc! { "_id": &id })
        .await
        .map_err(from_mongo)?;
    let _ = scratch.delete_one(doc! { "_id": &id }).await;
    let keeps = read
        .as_ref()
        .and_then(|d| d.get_array("a").ok())
        .and_then(|a| a.first())
        .is_some_and(|first| first.as_document().is_some());
    if !keeps {
        tracing::info!(
            "catalog: this server stores $push-ed subdocuments as strings; review summaries are \
             written with $set inside the review's transaction"
        );
    }
    Ok(ServerQuirks {
        push_each_keeps_documents: keeps,
    })
}
