//! How a document's text is cut into the passages that become vectors.
//!
//! The rule: windows of [`CHUNK_WORDS`] whitespace-separated words, each starting
//! [`CHUNK_WORDS`] − [`CHUNK_OVERLAP_WORDS`] words after the previous one; the title is embedded
//! with every chunk but not stored in it. Why these numbers: all-MiniLM-L6-v2 was trained on
//! inputs of at most 128 word pieces and truncates at 256; English averages about 1.3 word pieces
//! per word, so 100 words plus a title stay under 256 and near the training length, where the
//! model's sentence similarity is best. A window much shorter than that splits the one sentence a
//! query matches from its context; much longer, and the model silently drops the tail. The 20-word
//! overlap (one or two sentences) means a sentence that straddles a boundary appears whole in one
//! of the two chunks. Words, not characters or tokens: the split needs no tokenizer (the store
//! side never loads the model) and never cuts a word.

/// Words per chunk.
pub const CHUNK_WORDS: usize = 100;
/// Words a chunk shares with the one before it.
pub const CHUNK_OVERLAP_WORDS: usize = 20;
/// Chunks of one document at most (a [`super::Body`] of the maximum size makes about 375).
pub const MAX_CHUNKS: usize = 512;

/// One passage of a document's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// 0, 1, 2, … in text order.
    pub index: u32,
    /// The passage, cut from the body at word boundaries (inner spacing kept).
    pub text: String,
}

impl Chunk {
    /// What the embedder sees: the title, then the passage.
    pub fn embedding_input(&self, title: &str) -> String {
        if self.text.is_empty() {
            title.to_owned()
        } else {
            format!("{title}\n{}", self.text)
        }
    }
}

/// Cuts `body` into overlapping windows; an empty body makes one empty chunk, so the title alone
/// is still indexed.
pub fn chunk(body: &str) -> Vec<Chunk> {
    let words: Vec<(usize, usize)> = word_spans(body);
    if words.len() <= CHUNK_WORDS {
        return vec![Chunk {
            index: 0,
            text: body.trim().to_owned(),
        }];
    }
    let step = CHUNK_WORDS - CHUNK_OVERLAP_WORDS;
    let mut chunks = Vec::new();
    let mut start = 0;
    while chunks.len() < MAX_CHUNKS {
        let end = (start + CHUNK_WORDS).min(words.len());
        chunks.push(Chunk {
            index: chunks.len() as u32,
            text: body[words[start].0..words[end - 1].1].to_owned(),
        });
        if end == words.len() {
            break;
        }
        start += step;
    }
    chunks
}

/// Byte ranges of the whitespace-separated words of `text`.
fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(n: usize) -> String {
        (0..n)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn a_short_body_is_one_chunk() {
        assert_eq!(chunk("just a few words").len(), 1);
        assert_eq!(chunk("").len(), 1);
        assert_eq!(chunk(&words(100)).len(), 1);
    }

    #[test]
    fn windows_overlap_by_the_overlap_and_cover_every_word() {
        let body = words(420);
        let chunks = chunk(&body);
        // 0..100, 80..180, 160..260, 240..340, 320..420
        assert_eq!(chunks.len(), 5);
        assert!(chunks[1].text.starts_with("w80 "));
        assert!(chunks[0].text.ends_with(" w99"));
        assert!(chunks[4].text.ends_with(" w419"));
        for c in &chunks {
            assert!(c.text.split_whitespace().count() <= CHUNK_WORDS);
        }
        assert_eq!(chunk(&words(421)).len(), 6);
        assert_eq!(chunk(&words(180)).len(), 2);
    }

    #[test]
    fn chunks_never_cut_a_multibyte_word() {
        let body = "Grüße ".repeat(250);
        for c in chunk(&body) {
            assert!(c.text.split_whitespace().all(|w| w == "Grüße"));
        }
    }

    #[test]
    fn the_number_of_chunks_is_bounded() {
        let body = words(CHUNK_WORDS * MAX_CHUNKS);
        assert_eq!(chunk(&body).len(), MAX_CHUNKS);
    }
}
