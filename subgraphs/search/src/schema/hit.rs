//! One search hit: a document, its score and the passage that matched.

use async_graphql::{Context, Object};

use super::document::{DocumentNode, ProductRef, load_document};
use crate::service::Hit;

/// Longest highlight, in characters.
pub const HIGHLIGHT_CHARS: usize = 300;

pub struct SearchHit(pub Hit);

#[Object]
impl SearchHit {
    /// Cosine similarity of the query and the best chunk, -1 to 1 (higher is closer).
    async fn score(&self) -> f64 {
        f64::from(self.0.chunk.score)
    }

    /// The best-matching chunk's text, cut at a word boundary after 300 characters.
    async fn highlight(&self) -> String {
        highlight(&self.0.chunk.text)
    }

    /// Which chunk of the document matched (0 is the start).
    async fn chunk_index(&self) -> u32 {
        self.0.chunk.index
    }

    /// The document; null only when it was deleted while the search ran.
    async fn document(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<DocumentNode>> {
        load_document(ctx, self.0.document.clone()).await
    }

    /// The product, when the document describes one (source `catalog`).
    async fn product(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ProductRef>> {
        let document = load_document(ctx, self.0.document.clone()).await?;
        Ok(document.and_then(|d| {
            d.0.product_sku().map(|sku| ProductRef {
                sku: sku.to_owned(),
            })
        }))
    }
}

/// `text` cut to [`HIGHLIGHT_CHARS`] characters at the last space before, with an ellipsis.
pub fn highlight(text: &str) -> String {
    if text.chars().count() <= HIGHLIGHT_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(HIGHLIGHT_CHARS).collect();
    let end = cut.rfind(char::is_whitespace).unwrap_or(cut.len());
    format!("{}…", cut[..end].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_chunk_is_cut_at_a_word() {
        let text = "word ".repeat(100);
        let h = highlight(&text);
        assert!(h.ends_with("word…"), "{h}");
        assert!(h.chars().count() <= HIGHLIGHT_CHARS + 1);
        assert_eq!(highlight("short"), "short");
    }
}
