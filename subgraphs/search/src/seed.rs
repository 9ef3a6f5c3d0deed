//! The demo corpus `polygate serve` seeds on first start: the eight demo products' texts as
//! catalog documents (`catalog:<SKU>`, so hits reference commerce's products) and a dozen short
//! guides, so a search shows products and articles side by side from the first minute.
//!
//! Non-obvious: seeding works without the embedding model. Documents are stored first; with no
//! model they stay pending and the pending indexer embeds them once the model is installed. A
//! document already stored with the same text is left alone, so restarts write nothing.

use async_trait::async_trait;
use polygate_kit::{DemoSeed, SeedReport};

use crate::domain::{Body, DocumentId, Language, NewDocument, Source, Tags, Title};
use crate::service::SearchService;
use crate::store::PutOutcome;

/// (id, source, tags, title, body).
pub const DEMO_DOCUMENTS: &[(&str, &str, &[&str], &str, &str)] = &[
    (
        "catalog:MUG-01",
        "catalog",
        &["kitchen"],
        "Stoneware mug",
        "A 350 ml stoneware mug for coffee or tea, glazed inside and out, dishwasher and microwave safe. Its thick walls keep a hot drink warm while you read.",
    ),
    (
        "catalog:KETTLE-01",
        "catalog",
        &["kitchen"],
        "Gooseneck kettle",
        "A one-litre stainless steel kettle with a slim gooseneck spout for a slow, steady pour over coffee grounds, and a thermometer in the lid.",
    ),
    (
        "catalog:KNIFE-01",
        "catalog",
        &["kitchen"],
        "Chef's knife",
        "A 20 cm chef's knife forged from high-carbon steel, balanced for chopping vegetables, slicing meat and mincing herbs.",
    ),
    (
        "catalog:NOTEBOOK-A5",
        "catalog",
        &["office"],
        "Dotted notebook A5",
        "An A5 notebook with 192 pages of dotted 100 g/m² paper that takes fountain pen ink without bleeding, lay-flat binding and a ribbon marker.",
    ),
    (
        "catalog:PEN-01",
        "catalog",
        &["office"],
        "Fountain pen",
        "A steel-nib fountain pen with a converter for bottled ink; writes a smooth medium line for journaling and letters.",
    ),
    (
        "catalog:LAMP-01",
        "catalog",
        &["office"],
        "Desk lamp",
        "An LED desk lamp with an adjustable arm, dimmable warm to cool light and a USB port to charge a phone while you work late.",
    ),
    (
        "catalog:BOTTLE-01",
        "catalog",
        &["outdoor"],
        "Insulated bottle",
        "A vacuum-insulated 750 ml steel water bottle that keeps drinks cold for 24 hours or hot for 12 on a hike or at the office.",
    ),
    (
        "catalog:TENT-2P",
        "catalog",
        &["outdoor"],
        "Two-person tent",
        "A light three-season tent for two people with a waterproof fly, aluminium poles and two doors; packs to 2 kg for backpacking trips.",
    ),
    (
        "guides:pour-over",
        "guides",
        &["kitchen", "coffee"],
        "Brewing pour-over coffee",
        "Rinse the paper filter, add 15 g of medium-fine ground coffee and pour 250 g of water just off the boil in slow circles. Let it bloom for thirty seconds first; the whole brew should take about three minutes.",
    ),
    (
        "guides:knife-care",
        "guides",
        &["kitchen"],
        "Keeping a kitchen knife sharp",
        "Hone the edge on a steel before each use and sharpen on a whetstone a few times a year. Wash by hand and dry at once; a dishwasher dulls and chips the blade.",
    ),
    (
        "guides:ink",
        "guides",
        &["office", "writing"],
        "Choosing fountain pen ink",
        "Dye-based inks are bright and easy to clean; pigment inks are waterproof but need a pen cleaned more often. Test a new ink on the paper you use most.",
    ),
    (
        "guides:keyboard",
        "guides",
        &["office"],
        "Typing comfortably at a mechanical keyboard",
        "Keep your wrists straight and the keyboard at elbow height. Lighter switches and a low profile case reduce strain during long typing sessions.",
    ),
    (
        "guides:desk-light",
        "guides",
        &["office"],
        "Lighting a desk for reading",
        "Place the lamp on the side opposite your writing hand so your hand casts no shadow, and choose warm light in the evening.",
    ),
    (
        "guides:camp-checklist",
        "guides",
        &["outdoor"],
        "A weekend camping checklist",
        "Tent, sleeping bag rated for the night's low, a stove and fuel, water and a way to treat more, a headlamp, a first aid kit and layers for rain.",
    ),
    (
        "guides:hydration",
        "guides",
        &["outdoor"],
        "Staying hydrated on a hike",
        "Drink half a litre an hour in warm weather, more on steep climbs. Carry electrolytes on long days and refill at every reliable stream.",
    ),
    (
        "guides:tea",
        "guides",
        &["kitchen"],
        "Steeping loose-leaf tea",
        "Green tea wants water around 80 °C for two minutes; black tea boiling water for four. Warm the pot or cup first so the water does not cool too fast.",
    ),
];

/// The demo corpus as documents.
pub fn demo_documents() -> Vec<NewDocument> {
    DEMO_DOCUMENTS
        .iter()
        .map(|(id, source, tags, title, body)| NewDocument {
            id: DocumentId::parse(id).expect("demo ids are valid"),
            title: Title::parse(title).expect("demo titles are valid"),
            body: Body::parse(body).expect("demo bodies are valid"),
            source: Source::parse(source).expect("demo sources are valid"),
            tags: Tags::parse(tags).expect("demo tags are valid"),
            language: Language::default(),
        })
        .collect()
}

/// Seeds [`DEMO_DOCUMENTS`]; indexes them when the model is there.
pub struct DemoCorpus(pub SearchService);

#[async_trait]
impl DemoSeed for DemoCorpus {
    async fn seed(&self) -> anyhow::Result<SeedReport> {
        let mut created = 0;
        let mut waiting = 0;
        for doc in demo_documents() {
            let outcome = self.0.store_only(&doc).await?;
            if matches!(outcome, PutOutcome::Created(_)) {
                created += 1;
            }
            let document = outcome.into_document();
            if !document.is_indexed() && self.0.index(&document, None).await.is_err() {
                waiting += 1;
            }
        }
        if waiting > 0 {
            tracing::warn!(
                waiting,
                "demo documents stored but not indexed: {}",
                crate::embed::MissingModel::new(None).message()
            );
        }
        Ok(SeedReport {
            created,
            what: "documents",
        })
    }
}
