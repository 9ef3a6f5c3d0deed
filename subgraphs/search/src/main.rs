//! `polygate-search`: the search subgraph on its own (`serve`, `schema`, from the kit's runner),
//! plus the operator's commands: load a corpus, rebuild the collection under its alias, take and
//! restore snapshots, and measure recall. Every command reads `[subgraphs.search]` from the same
//! `polygate.toml` and `POLYGATE_*` variables as the gateway.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use futures::StreamExt as _;
use polygate_kit::standalone::{self, ConfigArgs, Standalone};
use polygate_search::corpus::{debian, folder, progress::Progress};
use polygate_search::domain::{NewDocument, Source};
use polygate_search::reindex::{ReindexOptions, reindex};
use polygate_search::{Search, SearchService, SearchSettings, embed, metrics, open_service};

polygate_kit::use_mimalloc!();

#[derive(Parser)]
#[command(
    name = "polygate-search",
    version,
    about = "The polygate search subgraph"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Common(standalone::Command),
    /// Store and index every .txt and .md file below FOLDER (id `files:<path>`).
    Ingest {
        #[command(flatten)]
        config: ConfigArgs,
        folder: PathBuf,
        /// The documents' source.
        #[arg(long, default_value = "files")]
        source: String,
    },
    /// Store and index the Debian package descriptions from apt's lists, with a progress bar.
    LoadDebian {
        #[command(flatten)]
        config: ConfigArgs,
        /// At most this many packages.
        #[arg(long, default_value_t = 100_000)]
        limit: usize,
    },
    /// Rebuild the vector collection into a new one and swap the alias to it. On the embedded
    /// store run it with the service stopped (a running service rebuilds with the `reindex`
    /// mutation instead).
    Reindex {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Write a consistent copy of the store into DEST (an empty folder).
    Snapshot {
        #[command(flatten)]
        config: ConfigArgs,
        dest: PathBuf,
    },
    /// Put a snapshot in place as the embedded store under `server.data_dir` (which must not
    /// hold one).
    Restore {
        #[command(flatten)]
        config: ConfigArgs,
        snapshot: PathBuf,
    },
    /// Benchmark figures measured in-process (used by subgraphs/search/bench/run).
    Bench {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// Measure recall@10 of the index against exact search on a sample of stored vectors.
    Recall {
        #[command(flatten)]
        config: ConfigArgs,
        #[arg(long, default_value_t = 200)]
        sample: usize,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Chunks embedded per second over the first TEXTS Debian descriptions.
    Embed {
        #[arg(long, default_value_t = 2000)]
        texts: usize,
        #[arg(long, default_value_t = 3)]
        rounds: usize,
    },
    /// Recall@10 and per-query time of the index vs exact search: the written bench queries
    /// plus SAMPLE stored vectors, unfiltered and filtered by the tag `utils`.
    Recall {
        #[arg(long, default_value_t = 400)]
        sample: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("polygate-search: cannot start a runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("polygate-search: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn standalone() -> Standalone {
    Standalone::new(polygate_kit::subgraph::entry::<Search>())
}

/// This subgraph's settings and data folder from the configuration.
fn settings(config: &ConfigArgs) -> anyhow::Result<(SearchSettings, PathBuf)> {
    let loaded = standalone().load(config)?;
    let settings = loaded
        .section
        .settings
        .get::<SearchSettings>()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("the search section parsed as another subgraph's"))?;
    Ok((settings, loaded.data_dir))
}

async fn service(config: &ConfigArgs) -> anyhow::Result<(SearchService, SearchSettings)> {
    polygate_kit::telemetry::init();
    let (settings, data_dir) = settings(config)?;
    standalone::prepare_data_dir(&data_dir, settings.is_embedded())?;
    Ok((open_service(&settings, &data_dir).await?, settings))
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Common(common) => standalone().run(common).await,
        Command::Ingest {
            config,
            folder,
            source,
        } => {
            let (service, _) = service(&config).await?;
            let docs = folder::read(&folder, &Source::parse(&source)?)?;
            load(&service, docs, "ingest").await
        }
        Command::LoadDebian { config, limit } => {
            let (service, _) = service(&config).await?;
            let docs = debian::parse(&debian::read_apt_lists()?, limit);
            load(&service, docs, "debian").await
        }
        Command::Reindex { config } => {
            let (service, settings) = service(&config).await?;
            let total = service.store.stats().await?.documents;
            let bar = Progress::new("reindex", total);
            let mut options = ReindexOptions::new(settings.collection_spec(embed::DIMENSIONS));
            options.progress = Some(Box::new(move |done| bar.show(done)));
            let report = reindex(&service, &options).await?;
            eprintln!();
            println!(
                "alias now names {} (was {}): {} documents, {} caught up",
                report.collection,
                report.previous.as_deref().unwrap_or("nothing"),
                report.documents,
                report.caught_up
            );
            Ok(())
        }
        Command::Snapshot { config, dest } => {
            let (service, _) = service(&config).await?;
            let started = std::time::Instant::now();
            service.store.snapshot(&dest).await?;
            println!(
                "snapshot written to {} in {:.2}s",
                dest.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Restore { config, snapshot } => {
            let (settings, data_dir) = settings(&config)?;
            anyhow::ensure!(
                settings.is_embedded(),
                "restore puts an embedded snapshot in place; restore Qdrant snapshots with Qdrant's \
                 snapshot recovery (see subgraphs/search/README.md)"
            );
            let dir = data_dir.join(polygate_search::EMBEDDED_DIR);
            polygate_search::store::embedded::restore_snapshot(&snapshot, &dir)?;
            println!("restored {} into {}", snapshot.display(), dir.display());
            Ok(())
        }
        Command::Bench { config, what } => {
            let (service, settings) = service(&config).await?;
            bench(&service, &settings, what).await
        }
        Command::Recall { config, sample } => {
            let (service, _) = service(&config).await?;
            match metrics::measure_recall(&service, sample, 10, 1).await? {
                Some(recall) => println!("recall@10 = {recall:.4} over {sample} stored vectors"),
                None => println!("the collection is empty"),
            }
            Ok(())
        }
    }
}

/// Stores every document, then indexes the ones not yet indexed, with progress bars.
async fn load(
    service: &SearchService,
    docs: Vec<NewDocument>,
    what: &'static str,
) -> anyhow::Result<()> {
    let total = docs.len() as u64;
    let bar = Progress::new("store", total);
    let mut stored = Vec::with_capacity(docs.len());
    for (n, doc) in docs.iter().enumerate() {
        stored.push(service.store_only(doc).await?.into_document());
        if n.is_multiple_of(500) {
            bar.show(n as u64);
        }
    }
    bar.finish(total);
    let waiting: Vec<_> = stored.into_iter().filter(|d| !d.is_indexed()).collect();
    let bar = Progress::new("index", waiting.len() as u64);
    let mut done = 0u64;
    let mut results = futures::stream::iter(&waiting)
        .map(|doc| service.index(doc, None))
        .buffer_unordered(polygate_search::reindex::CONCURRENCY);
    while let Some(result) = results.next().await {
        result?;
        done += 1;
        if done.is_multiple_of(100) {
            bar.show(done);
        }
    }
    let secs = bar.finish(done);
    println!(
        "{what}: {total} documents stored, {done} indexed in {secs:.1}s ({:.0} documents/s)",
        done as f64 / secs.max(1e-3)
    );
    Ok(())
}

async fn bench(
    service: &SearchService,
    settings: &SearchSettings,
    what: BenchCommand,
) -> anyhow::Result<()> {
    use polygate_search::bench;
    match what {
        BenchCommand::Embed { texts, rounds } => {
            let docs = debian::parse(&debian::read_apt_lists()?, texts);
            let pairs: Vec<(String, String)> = docs
                .iter()
                .map(|d| (d.title.as_str().to_owned(), d.body.as_str().to_owned()))
                .collect();
            let rates = bench::embedding_throughput(service, &pairs, rounds).await?;
            for rate in rates {
                println!("embed_chunks_per_s {rate:.1}");
            }
        }
        BenchCommand::Recall { sample } => {
            let written: Vec<String> = bench::QUERIES.iter().map(|q| q.to_string()).collect();
            let mut queries = service.embedder.embed(written).await?;
            queries.extend(service.store.sample_vectors(sample, 7).await?);
            let ef = settings.hnsw.ef_search;
            let utils = polygate_search::domain::Filter {
                tags: vec![polygate_search::domain::Tag::parse("utils")?],
                ..Default::default()
            };
            for (label, filter) in [
                ("all", polygate_search::domain::Filter::default()),
                ("utils", utils),
            ] {
                let (recall, approx, exact) = bench::recall(service, &queries, &filter, 10).await?;
                println!(
                    "recall filter={label} ef={ef} queries={} recall@10={recall:.4} ann_ms={:.3} exact_ms={:.3}",
                    queries.len(),
                    approx * 1e3,
                    exact * 1e3
                );
            }
            let stats = service.store.stats().await?;
            println!(
                "collection documents={} chunks={} memory_bytes={}",
                stats.documents, stats.chunks, stats.graph_memory_bytes
            );
        }
    }
    Ok(())
}
