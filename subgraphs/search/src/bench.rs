//! The in-process half of `subgraphs/search/bench/run`: embedding throughput and recall@10 of
//! the index against exact search on the same vectors (the HTTP half is wrk against the GraphQL
//! endpoint). Numbers are printed as `key value` lines the script collects.

use std::time::Instant;

use crate::domain::{Filter, chunk};
use crate::service::SearchService;
use crate::store::{Exactness, StoreError};

/// Queries a person might type against the Debian corpus, for recall and the HTTP bench.
pub const QUERIES: &[&str] = &[
    "play chess against the computer",
    "edit photos and images",
    "compress files into an archive",
    "read email in the terminal",
    "a web browser",
    "music player for the desktop",
    "convert video formats",
    "monitor network traffic",
    "encrypt files with a password",
    "backup tool for servers",
    "spreadsheet application",
    "draw diagrams",
    "python library for http requests",
    "regular expression library",
    "compile C programs",
    "database server",
    "text editor for programmers",
    "download files from the internet",
    "manage virtual machines",
    "firewall configuration",
    "fonts for asian languages",
    "scientific plotting",
    "learn to type faster",
    "screen recorder",
    "remote desktop access",
    "spell checker dictionary",
    "3d modelling software",
    "podcast downloader",
    "markdown to html converter",
    "password manager",
    "disk partition editor",
    "solve sudoku puzzles",
    "astronomy planetarium",
    "chat client for irc",
    "pdf viewer",
    "keyboard layout switcher",
    "speech synthesis",
    "optical character recognition",
    "genome sequence analysis",
    "weather forecast",
    "calendar and reminders",
    "version control system",
    "music notation",
    "flight simulator",
    "maps and navigation",
    "accounting for small business",
    "children's educational games",
    "terminal multiplexer",
    "log file analysis",
    "image viewer with thumbnails",
];

/// Chunks embedded per second over `texts` (the corpus's chunk inputs), best of `rounds`.
pub async fn embedding_throughput(
    service: &SearchService,
    texts: &[(String, String)],
    rounds: usize,
) -> Result<Vec<f64>, crate::embed::EmbedError> {
    let inputs: Vec<String> = texts
        .iter()
        .flat_map(|(title, body)| {
            chunk(body)
                .into_iter()
                .map(|c| c.embedding_input(title))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut rates = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        let vectors = service.embedder.embed(inputs.clone()).await?;
        rates.push(vectors.len() as f64 / started.elapsed().as_secs_f64());
    }
    Ok(rates)
}

/// Recall@`k` and mean seconds per query of the index (approximate) and of exact search, over
/// `queries` vectors.
pub async fn recall(
    service: &SearchService,
    queries: &[Vec<f32>],
    filter: &Filter,
    k: usize,
) -> Result<(f64, f64, f64), StoreError> {
    let (mut found, mut wanted) = (0usize, 0usize);
    let (mut approx_secs, mut exact_secs) = (0.0, 0.0);
    for q in queries {
        let t = Instant::now();
        let exact = service
            .store
            .nearest_chunks(q, filter, k, Exactness::Exact)
            .await?;
        exact_secs += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let approx = service
            .store
            .nearest_chunks(q, filter, k, Exactness::Approximate)
            .await?;
        approx_secs += t.elapsed().as_secs_f64();
        wanted += exact.len();
        found += exact
            .iter()
            .filter(|e| approx.iter().any(|a| a.id == e.id))
            .count();
    }
    let n = queries.len().max(1) as f64;
    Ok((
        found as f64 / wanted.max(1) as f64,
        approx_secs / n,
        exact_secs / n,
    ))
}
