//! The stored shape of a product document and of a review, shared by every adapter (MongoDB
//! stores it as BSON, SQLite as JSON text), and the readers that upgrade older shapes.
//!
//! Versions (`schemaVersion`; a document without one is version 1):
//! - **1**: `specs` was a map (`{"capacity_ml": 350}`), `category` a single slug, `price` the list
//!   price, `brand` a plain string, and a variant's options were its own fields
//!   (`{"sku": …, "colour": "blue", "priceDelta": 0, "stock": 3}`).
//! - **2** (current): the attribute pattern (`attributes: [{k, v, unit}]`, one index serves any
//!   attribute filter), `categoryPath`, `listPriceMinor`, `brand: {name}`, variants with an
//!   `options` list, the rating summary and the latest reviews embedded.
//!
//! Non-obvious: an upgrade happens on every read ([`upgrade`]), so code only ever sees the
//! current shape and documents of both versions can live side by side while the background
//! migrator (`crate::migrator`) rewrites old ones; a rolling deploy therefore needs no downtime.
//! A document of a *newer* version than this code knows is refused as corrupt rather than
//! misread: readers must be deployed before writers of a new version.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::domain::{
    Attribute, AttributeValue, CatalogProduct, CategorySlug, Media, ProductContent, Rating,
    RatingSummary, Review, ReviewId, Sku, UserRef, Variant,
};

/// The shape this code writes.
pub const CURRENT_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductDoc {
    /// The SKU: one document per product, found by primary key.
    #[serde(rename = "_id")]
    pub id: String,
    /// The SKU again, as a plain field compound indexes can use (`_id` cannot lead or join one
    /// on every server we test with).
    pub sku: String,
    pub schema_version: u32,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<BrandDoc>,
    #[serde(default)]
    pub category_path: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_price_minor: Option<i64>,
    #[serde(default)]
    pub attributes: Vec<AttributeDoc>,
    #[serde(default)]
    pub variants: Vec<VariantDoc>,
    #[serde(default)]
    pub media: Vec<MediaDoc>,
    #[serde(default)]
    pub rating: RatingDoc,
    #[serde(default)]
    pub recent_reviews: Vec<ReviewDoc>,
    #[serde(default)]
    pub revision: i64,
    #[serde(default)]
    pub updated_at_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrandDoc {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeDoc {
    pub k: String,
    /// A string or a number.
    pub v: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantDoc {
    pub sku: String,
    #[serde(default)]
    pub options: Vec<OptionDoc>,
    #[serde(default)]
    pub price_delta_minor: i64,
    #[serde(default)]
    pub stock_hint: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionDoc {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaDoc {
    pub url: String,
    #[serde(default)]
    pub alt: String,
}

/// The rating summary. Stars are five named counters rather than an array, so each is one
/// `$inc` path on every server.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RatingDoc {
    #[serde(default)]
    pub count: i64,
    #[serde(default)]
    pub sum: i64,
    #[serde(default)]
    pub s1: i64,
    #[serde(default)]
    pub s2: i64,
    #[serde(default)]
    pub s3: i64,
    #[serde(default)]
    pub s4: i64,
    #[serde(default)]
    pub s5: i64,
}

/// A review, in the `reviews` collection and (the latest few) in its product's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewDoc {
    #[serde(rename = "_id")]
    pub id: String,
    pub sku: String,
    pub author_id: String,
    pub rating: i64,
    pub title: String,
    #[serde(default)]
    pub body: String,
    pub created_at_ms: i64,
}

/// Reads a stored product document of any known version in the current shape.
pub fn upgrade(mut raw: Value) -> Result<ProductDoc, String> {
    let version = raw
        .get("schemaVersion")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    match version {
        1 => {
            upgrade_v1_to_v2(&mut raw)?;
            serde_json::from_value(raw).map_err(|e| format!("version 1 document: {e}"))
        }
        2 => serde_json::from_value(raw).map_err(|e| format!("version 2 document: {e}")),
        newer => Err(format!(
            "schemaVersion {newer} is newer than this code ({CURRENT_VERSION}): deploy readers first"
        )),
    }
}

/// The schema version a raw stored document declares.
pub fn version_of(raw: &Value) -> u64 {
    raw.get("schemaVersion")
        .and_then(Value::as_u64)
        .unwrap_or(1)
}

/// Units a version-1 `specs` key could end with (`capacity_ml` → `capacity` in `ml`).
const V1_UNITS: [&str; 9] = ["ml", "l", "g", "kg", "mm", "cm", "m", "w", "h"];

fn upgrade_v1_to_v2(raw: &mut Value) -> Result<(), String> {
    let doc = raw.as_object_mut().ok_or("a document is an object")?;
    let id = doc
        .get("_id")
        .and_then(Value::as_str)
        .ok_or("version 1 document without a string _id")?
        .to_owned();
    doc.insert("sku".into(), json!(id));
    if let Some(Value::String(brand)) = doc.remove("brand") {
        doc.insert("brand".into(), json!({ "name": brand }));
    }
    let category = doc.remove("category");
    let path = match category {
        Some(Value::String(c)) => vec![json!(c)],
        _ => vec![],
    };
    doc.insert("categoryPath".into(), Value::Array(path));
    if let Some(price) = doc.remove("price") {
        doc.insert("listPriceMinor".into(), price);
    }
    let specs = match doc.remove("specs") {
        Some(Value::Object(specs)) => specs,
        _ => Map::new(),
    };
    let attributes: Vec<Value> = specs
        .into_iter()
        .map(|(key, v)| {
            let split = V1_UNITS.iter().find_map(|unit| {
                key.strip_suffix(&format!("_{unit}"))
                    .filter(|_| v.is_number())
                    .map(|k| (k.to_owned(), *unit))
            });
            match split {
                Some((k, unit)) => json!({ "k": k, "v": v, "unit": unit }),
                None => json!({ "k": key, "v": v }),
            }
        })
        .collect();
    doc.insert("attributes".into(), Value::Array(attributes));
    let variants = match doc.remove("variants") {
        Some(Value::Array(variants)) => variants,
        _ => vec![],
    };
    let variants: Vec<Value> = variants
        .into_iter()
        .filter_map(|v| match v {
            Value::Object(mut fields) => {
                let sku = fields.remove("sku")?;
                let delta = fields.remove("priceDelta").unwrap_or(json!(0));
                let stock = fields.remove("stock").unwrap_or(json!(0));
                let options: Vec<Value> = fields
                    .into_iter()
                    .filter_map(|(name, value)| {
                        value.as_str().map(|s| json!({ "name": name, "value": s }))
                    })
                    .collect();
                Some(json!({
                    "sku": sku, "options": options, "priceDeltaMinor": delta, "stockHint": stock
                }))
            }
            _ => None,
        })
        .collect();
    doc.insert("variants".into(), Value::Array(variants));
    doc.insert("schemaVersion".into(), json!(2));
    Ok(())
}

impl ProductDoc {
    /// The document of `product`, in the current shape.
    pub fn from_domain(product: &CatalogProduct) -> Self {
        let c = &product.content;
        let r = &product.rating;
        Self {
            id: c.sku.as_str().to_owned(),
            sku: c.sku.as_str().to_owned(),
            schema_version: CURRENT_VERSION,
            name: c.name.clone(),
            description: c.description.clone(),
            brand: c.brand.clone().map(|name| BrandDoc { name }),
            category_path: c
                .category_path
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            list_price_minor: c.list_price_minor,
            attributes: c
                .attributes
                .iter()
                .map(|a| AttributeDoc {
                    k: a.key.clone(),
                    v: match &a.value {
                        AttributeValue::Text(t) => json!(t),
                        AttributeValue::Number(n) => json!(n),
                    },
                    unit: a.unit.clone(),
                })
                .collect(),
            variants: c
                .variants
                .iter()
                .map(|v| VariantDoc {
                    sku: v.sku.as_str().to_owned(),
                    options: v
                        .options
                        .iter()
                        .map(|o| OptionDoc {
                            name: o.name.clone(),
                            value: o.value.clone(),
                        })
                        .collect(),
                    price_delta_minor: v.price_delta_minor,
                    stock_hint: v.stock_hint,
                })
                .collect(),
            media: c
                .media
                .iter()
                .map(|m| MediaDoc {
                    url: m.url.clone(),
                    alt: m.alt.clone(),
                })
                .collect(),
            rating: RatingDoc {
                count: r.count,
                sum: r.sum,
                s1: r.histogram[0],
                s2: r.histogram[1],
                s3: r.histogram[2],
                s4: r.histogram[3],
                s5: r.histogram[4],
            },
            recent_reviews: product
                .recent_reviews
                .iter()
                .map(ReviewDoc::from_domain)
                .collect(),
            revision: product.revision,
            updated_at_ms: product.updated_at.timestamp_millis(),
        }
    }

    /// The product this document describes, checked against the domain rules.
    pub fn into_domain(self, stored_version: u32) -> Result<CatalogProduct, String> {
        let sku = Sku::parse(&self.id).map_err(|e| e.to_string())?;
        let category_path = self
            .category_path
            .iter()
            .enumerate()
            .map(|(i, c)| CategorySlug::parse_field(&format!("categoryPath[{i}]"), c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let mut attributes = Vec::with_capacity(self.attributes.len());
        for (i, a) in self.attributes.iter().enumerate() {
            let value = match &a.v {
                Value::String(s) => AttributeValue::Text(s.clone()),
                Value::Number(n) => AttributeValue::Number(n.as_f64().unwrap_or(f64::NAN)),
                other => return Err(format!("attributes[{i}].v is {other}")),
            };
            let at = format!("attributes[{i}]");
            attributes.push(
                Attribute::new(&at, &a.k, value, a.unit.as_deref()).map_err(|e| e.to_string())?,
            );
        }
        let mut variants = Vec::with_capacity(self.variants.len());
        for (i, v) in self.variants.iter().enumerate() {
            let options: Vec<(String, String)> = v
                .options
                .iter()
                .map(|o| (o.name.clone(), o.value.clone()))
                .collect();
            variants.push(
                Variant::new(
                    &format!("variants[{i}]"),
                    &v.sku,
                    &options,
                    v.price_delta_minor,
                    v.stock_hint,
                )
                .map_err(|e| e.to_string())?,
            );
        }
        let media = self
            .media
            .iter()
            .enumerate()
            .map(|(i, m)| Media::new(&format!("media[{i}]"), &m.url, &m.alt))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let content = ProductContent::new(
            sku,
            &self.name,
            &self.description,
            self.brand.as_ref().map(|b| b.name.as_str()),
            category_path,
            self.list_price_minor,
            attributes,
            variants,
            media,
        )
        .map_err(|e| e.to_string())?;
        let r = self.rating;
        let recent_reviews = self
            .recent_reviews
            .into_iter()
            .map(ReviewDoc::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CatalogProduct {
            content,
            rating: RatingSummary {
                count: r.count,
                sum: r.sum,
                histogram: [r.s1, r.s2, r.s3, r.s4, r.s5],
            },
            recent_reviews,
            revision: self.revision,
            updated_at: time_from_ms(self.updated_at_ms)?,
            stored_version,
        })
    }
}

impl ReviewDoc {
    pub fn from_domain(review: &Review) -> Self {
        Self {
            id: review.id.as_str().to_owned(),
            sku: review.sku.as_str().to_owned(),
            author_id: review.author.0.clone(),
            rating: i64::from(review.rating.stars()),
            title: review.title.clone(),
            body: review.body.clone(),
            created_at_ms: review.created_at.timestamp_millis(),
        }
    }

    pub fn into_domain(self) -> Result<Review, String> {
        Ok(Review {
            id: ReviewId::from_stored(self.id),
            sku: Sku::parse(&self.sku).map_err(|e| e.to_string())?,
            author: UserRef(self.author_id),
            rating: Rating::new(self.rating).map_err(|e| e.to_string())?,
            title: self.title,
            body: self.body,
            created_at: time_from_ms(self.created_at_ms)?,
        })
    }
}

fn time_from_ms(ms: i64) -> Result<DateTime<Utc>, String> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| format!("time {ms} out of range"))
}

/// Reads a raw stored document (any version) as a product.
pub fn product_from_raw(raw: Value) -> Result<CatalogProduct, String> {
    let version = version_of(&raw) as u32;
    upgrade(raw)?.into_domain(version)
}

/// A version-1 document, as the previous release wrote them (tests and the bench use it to
/// show both versions read the same).
pub fn legacy_v1_example(sku: &str) -> Value {
    json!({
        "_id": sku,
        "name": "Legacy enamel mug",
        "description": "An enamel camping mug, stored before attributes were a list.",
        "brand": "Polygate Goods",
        "category": "kitchen",
        "price": 1450,
        "specs": { "capacity_ml": 300, "material": "enamel" },
        "variants": [
            { "sku": format!("{sku}-GRN"), "colour": "green", "priceDelta": 0, "stock": 4 },
            { "sku": format!("{sku}-RED"), "colour": "red", "priceDelta": 150, "stock": 0 }
        ],
        "revision": 1,
        "updatedAtMs": 1_767_225_600_000i64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_document_reads_in_the_current_shape() {
        let product = product_from_raw(legacy_v1_example("OLD-1")).unwrap();
        let c = &product.content;
        assert_eq!(product.stored_version, 1);
        assert_eq!(c.brand.as_deref(), Some("Polygate Goods"));
        assert_eq!(c.category_path[0].as_str(), "kitchen");
        assert_eq!(c.list_price_minor, Some(1450));
        let capacity = c.attributes.iter().find(|a| a.key == "capacity").unwrap();
        assert_eq!(capacity.value, AttributeValue::Number(300.0));
        assert_eq!(capacity.unit.as_deref(), Some("ml"));
        assert_eq!(c.variants[1].options[0].value, "red");
        assert_eq!(c.variants[1].price_delta_minor, 150);
    }

    #[test]
    fn writing_what_was_read_gives_a_current_document_that_reads_the_same() {
        let old = product_from_raw(legacy_v1_example("OLD-2")).unwrap();
        let doc = ProductDoc::from_domain(&old);
        assert_eq!(doc.schema_version, CURRENT_VERSION);
        let again = product_from_raw(serde_json::to_value(&doc).unwrap()).unwrap();
        assert_eq!(again.content, old.content);
        assert_eq!(again.stored_version, CURRENT_VERSION);
    }

    #[test]
    fn a_document_from_a_newer_version_is_refused() {
        let err = upgrade(json!({"_id": "X", "schemaVersion": 9})).unwrap_err();
        assert!(err.contains("newer"), "{err}");
    }
}
