//! The commands `polygate-telemetry` has beyond the kit's `serve` and `schema`: `generate`
//! (TSBS-shaped data with a progress bar), `ingest` (the bulk path for agents: CSV rows on
//! stdin or from a file, streamed with binary COPY) and `bench-queries` (the TSBS query set as
//! GraphQL bodies and pgbench scripts, for `bench/run`).
//!
//! Non-obvious: these commands read `[subgraphs.telemetry]` through the kit's loader (the same
//! file and `POLYGATE_*` layering as `serve`); `--store` overrides the section's store for one
//! run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use polygate_kit::standalone::{ConfigArgs, Standalone};
use tokio::io::AsyncBufReadExt;

use crate::bulk::{self, BulkOptions};
use crate::domain::{MAX_BULK_ROWS, Measurement, ReadingBatch};
use crate::generator::{Fleet, INTERVAL_SECS};
use crate::settings::TelemetrySettings;
use crate::store::TelemetryStore;
use crate::{Telemetry, connect};

/// Where the commands find their store.
#[derive(clap::Args, Clone, Default)]
pub struct StoreArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Overrides `[subgraphs.telemetry] store`: `embedded`, sqlite://PATH or postgres://…
    #[arg(long)]
    pub store: Option<String>,
}

/// `[subgraphs.telemetry]` and `server.data_dir` from the file and environment, as `serve`
/// reads them, with `--store` on top.
pub fn load_settings(args: &StoreArgs) -> anyhow::Result<(TelemetrySettings, PathBuf)> {
    let standalone = Standalone::new(polygate_kit::subgraph::entry::<Telemetry>());
    let loaded = standalone.load(&args.config)?;
    let mut settings = loaded
        .section
        .settings
        .get::<TelemetrySettings>()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("subgraphs.telemetry: settings of another subgraph"))?;
    if let Some(store) = &args.store {
        settings.store = store.clone();
        settings
            .validate()
            .map_err(|e| anyhow::anyhow!("--store: {}", e.message))?;
    }
    Ok((settings, loaded.data_dir))
}

async fn open(args: &StoreArgs) -> anyhow::Result<(Arc<dyn TelemetryStore>, TelemetrySettings)> {
    let (settings, data_dir) = load_settings(args)?;
    if settings.embedded() {
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("cannot create {}", data_dir.display()))?;
    }
    Ok((connect(&settings, &data_dir).await?, settings))
}

fn bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{what} {{bar:40}} {{pos}}/{{len}} rows {{per_sec}} eta {{eta}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// `generate`: registers `hosts` TSBS hosts and loads `days` of their readings every 10 s up
/// to `until` through the bulk path, or writes them as one CSV file per measurement.
pub async fn generate(
    args: &StoreArgs,
    hosts: usize,
    days: f64,
    until: Option<DateTime<Utc>>,
    seed: u64,
    writers: usize,
    csv: Option<&Path>,
) -> anyhow::Result<()> {
    anyhow::ensure!((1..=100_000).contains(&hosts), "--hosts: 1 to 100000");
    anyhow::ensure!(
        days > 0.0 && days <= 30.0,
        "--days: more than 0, at most 30"
    );
    let (store, _) = open(args).await?;
    let until = until.unwrap_or_else(Utc::now);
    let from = until - Duration::seconds((days * 86_400.0) as i64);
    let fleet = Fleet::new(hosts, seed);
    let registered = store.upsert_hosts(&fleet.hosts).await?;
    let ids: Vec<_> = registered.iter().map(|h| h.id).collect();
    store.prepare_storage(until + Duration::days(1)).await?;
    let ticks = (until - from).num_seconds() / INTERVAL_SECS;
    let total = ticks as u64 * hosts as u64 * Measurement::ALL.len() as u64;
    let ticks_per_batch = (MAX_BULK_ROWS / 2 / (hosts * Measurement::ALL.len())).max(1) as i64;
    let step = Duration::seconds(INTERVAL_SECS * ticks_per_batch);
    let slices = (0..)
        .map(move |i| from + step * i)
        .take_while(move |start| *start < until);
    let progress = bar(total, "generate");
    if let Some(dir) = csv {
        std::fs::create_dir_all(dir)?;
        let mut files = BTreeMap::new();
        for &m in Measurement::ALL {
            let file = std::fs::File::create(dir.join(format!("{}.csv", m.table())))?;
            files.insert(m, std::io::BufWriter::new(file));
        }
        let mut rows = 0;
        for start in slices {
            for reading in fleet.readings(&ids, start, (start + step).min(until)) {
                use std::io::Write;
                let file = files
                    .get_mut(&reading.measurement)
                    .expect("every measurement");
                writeln!(file, "{}", bulk::csv_line(&reading.row))?;
                rows += 1;
            }
            progress.set_position(rows);
        }
        for file in files.values_mut() {
            use std::io::Write;
            file.flush()?;
        }
        progress.finish();
        println!("{rows} rows of {hosts} hosts written to {}", dir.display());
        return Ok(());
    }
    let fleet = &fleet;
    let ids = &ids;
    let batches = futures::stream::iter(slices).map(move |start| {
        ReadingBatch::group(fleet.readings(ids, start, (start + step).min(until)))
    });
    let report = bulk::load_batches(store.as_ref(), batches, Utc::now(), writers, |done| {
        progress.set_position(done)
    })
    .await?;
    progress.finish();
    println!("{report}");
    let refreshed = store.refresh_rollups(until).await?;
    println!("rollups refreshed: {} rows", refreshed.rows);
    Ok(())
}

/// `ingest`: the bulk path for agents. Reads `time,host_id,value,…` lines of one measurement
/// (what `psql \copy` reads) and writes them in batches; exits non-zero when a batch was
/// refused.
pub async fn ingest(
    args: &StoreArgs,
    measurement: Measurement,
    file: Option<&Path>,
    options: BulkOptions,
) -> anyhow::Result<()> {
    let (store, settings) = open(args).await?;
    let reader: Box<dyn tokio::io::AsyncRead + Unpin + Send> = match file {
        Some(path) => Box::new(tokio::fs::File::open(path).await?),
        // The workspace's tokio has no `io-std`; on Linux stdin is a file like any other.
        None => Box::new(tokio::fs::File::open("/dev/stdin").await?),
    };
    let lines = tokio::io::BufReader::with_capacity(1 << 20, reader).lines();
    let rows = futures::stream::unfold(lines, |mut lines| async move {
        match lines.next_line().await {
            Ok(Some(line)) => Some((Some(line), lines)),
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "reading the input failed");
                None
            }
        }
    })
    .filter_map(|line| async move { line.filter(|l| !l.trim().is_empty()) })
    .map(move |line: String| bulk::parse_csv_line(measurement, &line));
    let raw_retention = Duration::days(i64::from(settings.raw_retention_days));
    let limits = || crate::ingest::limits(Utc::now(), raw_retention, MAX_BULK_ROWS);
    let report = bulk::load(store.as_ref(), rows, limits, options, |_| {}).await;
    println!("{report}");
    for error in &report.errors {
        eprintln!("refused: {error}");
    }
    anyhow::ensure!(
        report.refused_batches == 0,
        "{} batches refused",
        report.refused_batches
    );
    Ok(())
}

/// `bench-queries`: writes, per TSBS query type, `NAME.json` (the GraphQL request) and
/// `NAME.sql` plus `NAME.vars` (the adapter's SQL for `pgbench -M prepared -f NAME.sql`, with
/// its parameters as `-D pN=…` lines); and the same for each series query's `NAME-points`
/// variant (`tsbs::points_variants`).
pub async fn bench_queries(
    args: &StoreArgs,
    out: &Path,
    until: DateTime<Utc>,
) -> anyhow::Result<()> {
    let (settings, _) = load_settings(args)?;
    let url = settings.postgres_url().await?;
    let store = crate::store::PostgresStore::connect(&url, &settings).await?;
    let hosts: Vec<_> = store
        .list_hosts(&Default::default(), 1_000, None)
        .await?
        .into_iter()
        .map(|h| h.id)
        .collect();
    anyhow::ensure!(!hosts.is_empty(), "no hosts: run `generate` first");
    std::fs::create_dir_all(out)?;
    let dialect = store.dialect();
    let set = crate::tsbs::queries(dialect, &hosts, until);
    for query in set
        .into_iter()
        .chain(crate::tsbs::points_variants(dialect, &hosts, until))
    {
        let mut sql = query.sql.clone();
        // $10 before $1: replace longer numbers first.
        for (i, param) in query.params.iter().enumerate().rev() {
            let value = param
                .as_ref()
                .map_or("NULL".to_owned(), |_| format!(":p{}", i + 1));
            sql = sql.replace(&format!("${}", i + 1), &value);
        }
        std::fs::write(
            out.join(format!("{}.sql", query.name)),
            format!("{};\n", sql.trim()),
        )?;
        let vars: String = query
            .params
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.as_ref().map(|p| format!("p{}={p}\n", i + 1)))
            .collect();
        std::fs::write(out.join(format!("{}.vars", query.name)), vars)?;
        std::fs::write(
            out.join(format!("{}.json", query.name)),
            serde_json::to_string(&query.graphql)?,
        )?;
    }
    println!("{:?} edition, {} hosts", store.edition(), hosts.len());
    Ok(())
}

/// `maintain`: one maintenance pass now (partitions ahead, rollups, retention), as the serving
/// process runs every `maintenance_every_secs`; for cron or after a bulk load.
pub async fn maintain(args: &StoreArgs) -> anyhow::Result<()> {
    let (store, settings) = open(args).await?;
    let now = Utc::now();
    let refreshed = store.refresh_rollups(now).await?;
    crate::maintenance::run_once(store.as_ref(), &settings, now).await;
    println!(
        "rollups: {} rows written, complete before {:?}",
        refreshed.rows, refreshed.watermark
    );
    for table in store.table_stats().await? {
        println!("{}: {} chunks", table.table, table.chunks);
    }
    Ok(())
}
