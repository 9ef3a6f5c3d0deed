//! Demo content for commerce's eight demo products (same SKUs): descriptions, attributes,
//! variants, media and a few reviews. Idempotent: content already there (perhaps edited by
//! staff) is left alone, and a review already added is a harmless repeat.
//!
//! Non-obvious: demo reviews are written by reviewer ids that are not commerce user ids
//! (`demo-…`), so their `author` is null; reviews added through `addReview` carry the signed-in
//! user's id. Their times are fixed instants, so the seed is the same on every start.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use polygate_kit::{DemoSeed, SeedReport};

use crate::domain::{
    Attribute, AttributeValue, CategorySlug, Media, NewReview, ProductContent, ReviewOutcome, Sku,
    UserRef, Variant,
};
use crate::store::CatalogStore;

struct Demo {
    sku: &'static str,
    name: &'static str,
    description: &'static str,
    brand: &'static str,
    path: [&'static str; 2],
    list_price_minor: i64,
    /// `(key, text or number, unit)`; numbers are written as numbers.
    attributes: &'static [(&'static str, &'static str, &'static str)],
    /// `(variant sku suffix, option name, option value, price delta, stock hint)`.
    variants: &'static [(&'static str, &'static str, &'static str, i64, i32)],
    /// `(stars, title, body)`.
    reviews: &'static [(i64, &'static str, &'static str)],
}

const DEMO: [Demo; 8] = [
    Demo {
        sku: "MUG-01",
        name: "Stoneware mug",
        description: "A 350 ml stoneware mug, glazed inside and out, thick-walled so coffee stays warm. Dishwasher and microwave safe.",
        brand: "Kiln & Co",
        path: ["kitchen", "drinkware"],
        list_price_minor: 1400,
        attributes: &[
            ("material", "stoneware", ""),
            ("capacity", "350", "ml"),
            ("dishwasher_safe", "yes", ""),
        ],
        variants: &[
            ("-BLU", "colour", "blue", 0, 40),
            ("-WHT", "colour", "white", 0, 80),
        ],
        reviews: &[
            (5, "My daily mug", "Heavy in the hand, keeps tea hot."),
            (4, "Lovely glaze", "The blue is deeper than in the photos."),
        ],
    },
    Demo {
        sku: "KETTLE-01",
        name: "Gooseneck kettle",
        description: "A one-litre gooseneck kettle for pour-over coffee, with a thermometer in the lid and a slow, precise spout.",
        brand: "Pourwell",
        path: ["kitchen", "appliances"],
        list_price_minor: 5900,
        attributes: &[
            ("material", "steel", ""),
            ("capacity", "1000", "ml"),
            ("power", "1200", "W"),
        ],
        variants: &[
            ("-BLK", "colour", "black", 0, 15),
            ("-STL", "colour", "steel", 500, 10),
        ],
        reviews: &[
            (5, "Pour-over game changer", "The flow is easy to control."),
            (3, "Slow to boil", "Fine for coffee, slow for pasta."),
        ],
    },
    Demo {
        sku: "KNIFE-01",
        name: "Chef's knife",
        description: "A 21 cm chef's knife forged from VG-10 steel with a walnut handle; sharpened to 15 degrees.",
        brand: "Hamon",
        path: ["kitchen", "cutlery"],
        list_price_minor: 8900,
        attributes: &[
            ("blade_length", "210", "mm"),
            ("steel", "VG-10", ""),
            ("handle", "walnut", ""),
        ],
        variants: &[],
        reviews: &[(5, "Scary sharp", "Out of the box it shaved paper.")],
    },
    Demo {
        sku: "NOTEBOOK-A5",
        name: "Dotted notebook A5",
        description: "An A5 notebook with 192 numbered pages of dotted 100 g paper that fountain pen ink does not bleed through.",
        brand: "Folio",
        path: ["office", "paper"],
        list_price_minor: 1250,
        attributes: &[
            ("pages", "192", ""),
            ("paper_weight", "100", "g"),
            ("ruling", "dotted", ""),
        ],
        variants: &[
            ("-BLK", "colour", "black", 0, 60),
            ("-SGE", "colour", "sage", 0, 35),
        ],
        reviews: &[(4, "Good paper", "No ghosting with a fine nib.")],
    },
    Demo {
        sku: "PEN-01",
        name: "Fountain pen",
        description: "A brass fountain pen with a steel nib, converter included; writes wet and smooth.",
        brand: "Scriba",
        path: ["office", "writing"],
        list_price_minor: 3400,
        attributes: &[("material", "brass", ""), ("weight", "32", "g")],
        variants: &[("-F", "nib", "fine", 0, 20), ("-M", "nib", "medium", 0, 25)],
        reviews: &[
            (5, "Heirloom quality", "Heavy, balanced, never skips."),
            (2, "Leaked once", "Ink on my fingers after a flight."),
        ],
    },
    Demo {
        sku: "LAMP-01",
        name: "Desk lamp",
        description: "An aluminium desk lamp with a dimmable 8 W LED and an adjustable arm; warm 2700 K light.",
        brand: "Lumen Works",
        path: ["office", "lighting"],
        list_price_minor: 4900,
        attributes: &[
            ("power", "8", "W"),
            ("colour_temperature", "2700", "K"),
            ("material", "aluminium", ""),
        ],
        variants: &[
            ("-BLK", "colour", "black", 0, 12),
            ("-WHT", "colour", "white", 0, 9),
        ],
        reviews: &[(
            4,
            "Nice warm light",
            "The dimmer goes low enough for night reading.",
        )],
    },
    Demo {
        sku: "BOTTLE-01",
        name: "Insulated bottle",
        description: "A double-walled steel bottle that keeps drinks cold for 24 hours and hot for 12; leak-proof lid.",
        brand: "Trailhead",
        path: ["outdoor", "drinkware"],
        list_price_minor: 2900,
        attributes: &[
            ("capacity", "750", "ml"),
            ("material", "steel", ""),
            ("insulated", "yes", ""),
        ],
        variants: &[
            ("-500", "size", "500 ml", -400, 30),
            ("-750", "size", "750 ml", 0, 50),
        ],
        reviews: &[
            (5, "Ice all day", "Still had ice after a hot hike."),
            (
                4,
                "Dents easily",
                "Works fine, but dented on the first drop.",
            ),
        ],
    },
    Demo {
        sku: "TENT-2P",
        name: "Two-person tent",
        description: "A freestanding two-person tent for three seasons: 2.1 kg packed, two doors, two vestibules.",
        brand: "Trailhead",
        path: ["outdoor", "camping"],
        list_price_minor: 24900,
        attributes: &[
            ("weight", "2.1", "kg"),
            ("persons", "2", ""),
            ("seasons", "3", ""),
        ],
        variants: &[("-GRN", "colour", "green", 0, 2)],
        reviews: &[(
            5,
            "Pitches in minutes",
            "Stayed dry through a night of rain.",
        )],
    },
];

/// 2026-01-10T09:00:00Z plus `minutes`: when demo reviews were written.
fn demo_time(minutes: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_768_035_600 + minutes * 60, 0).expect("in range")
}

fn content_of(demo: &Demo) -> anyhow::Result<ProductContent> {
    let sku = Sku::parse(demo.sku)?;
    let attributes = demo
        .attributes
        .iter()
        .enumerate()
        .map(|(i, (key, value, unit))| {
            let value = match value.parse::<f64>() {
                Ok(n) => AttributeValue::Number(n),
                Err(_) => AttributeValue::Text((*value).to_owned()),
            };
            let unit = (!unit.is_empty()).then_some(*unit);
            Attribute::new(&format!("attributes[{i}]"), key, value, unit)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let variants = demo
        .variants
        .iter()
        .enumerate()
        .map(|(i, (suffix, name, value, delta, stock))| {
            let options = [((*name).to_owned(), (*value).to_owned())];
            Variant::new(
                &format!("variants[{i}]"),
                &format!("{}{suffix}", demo.sku),
                &options,
                *delta,
                *stock,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let path = demo
        .path
        .iter()
        .map(|c| CategorySlug::parse_field("categoryPath", c))
        .collect::<Result<Vec<_>, _>>()?;
    let picture = format!("/media/{}.webp", demo.sku.to_ascii_lowercase());
    Ok(ProductContent::new(
        sku,
        demo.name,
        demo.description,
        Some(demo.brand),
        path,
        Some(demo.list_price_minor),
        attributes,
        variants,
        vec![Media::new("media[0]", &picture, demo.name)?],
    )?)
}

/// Seeds the demo content through `store`; see the module doc.
pub async fn seed_demo(store: &dyn CatalogStore) -> anyhow::Result<SeedReport> {
    let mut created = 0;
    for (p, demo) in DEMO.iter().enumerate() {
        let content = content_of(demo)?;
        let sku = content.sku.clone();
        if store
            .products_by_skus(std::slice::from_ref(&sku))
            .await?
            .is_empty()
        {
            store.upsert_content(content, demo_time(p as i64)).await?;
            created += 1;
        }
        for (r, (stars, title, body)) in demo.reviews.iter().enumerate() {
            let author = UserRef(format!("demo-reviewer-{}", r + 1));
            let at = demo_time(60 * (p as i64 + 1) + r as i64);
            let review = NewReview::new(sku.clone(), author, *stars, title, body, at)?;
            if let ReviewOutcome::Added(_) = store.add_review(review).await? {
                created += 1;
            }
        }
    }
    Ok(SeedReport {
        created,
        what: "product contents and reviews",
    })
}

/// The demo seed as the kit runs it.
pub struct CatalogSeed(pub Arc<dyn CatalogStore>);

#[async_trait]
impl DemoSeed for CatalogSeed {
    async fn seed(&self) -> anyhow::Result<SeedReport> {
        seed_demo(self.0.as_ref()).await
    }
}

/// The demo SKUs, for tests.
pub fn demo_skus() -> Vec<&'static str> {
    DEMO.iter().map(|d| d.sku).collect()
}
