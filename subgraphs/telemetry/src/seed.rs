//! The demo fleet: 20 hosts (teams `platform`, `data`, `engineering`) with a day of readings
//! every 10 seconds up to the clock's now, so `lastReadings` and recent windows show data
//! whenever the gateway starts.
//!
//! Idempotent and catching up: every start registers the hosts again (an upsert) and writes the
//! readings from the newest stored one (or a day ago, whichever is later) up to now; readings
//! are a pure function of host and time, so an overlap writes nothing twice.
//!
//! Non-obvious: the seed does not refresh the rollups. On SQLite that took 4.1 s of the 5.4 s
//! a first start spent seeding (measured here from `/metrics`); the maintenance task does it
//! in the background in short slices, and until then the same queries answer from raw
//! readings (the rollup split is exact either way).

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use polygate_kit::{DemoSeed, SeedReport};

use crate::clock::Clock;
use crate::domain::{HostSelection, MAX_BULK_ROWS, Measurement, ReadingBatch};
use crate::generator::{Fleet, INTERVAL_SECS};
use crate::store::TelemetryStore;

/// Hosts in the demo fleet.
pub const DEMO_HOSTS: usize = 20;
/// How far back the demo readings reach.
pub const DEMO_SPAN: Duration = Duration::days(1);
/// The demo fleet's generator seed.
pub const DEMO_SEED: u64 = 2024;

pub struct DemoFleet {
    pub store: Arc<dyn TelemetryStore>,
    pub clock: Arc<dyn Clock>,
}

/// Registers the demo fleet and writes its readings up to `now`; returns the rows written.
pub async fn seed_demo(store: &dyn TelemetryStore, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let fleet = Fleet::new(DEMO_HOSTS, DEMO_SEED);
    let hosts = store.upsert_hosts(&fleet.hosts).await?;
    let ids: Vec<_> = hosts.iter().map(|h| h.id).collect();
    let selection = HostSelection::only(ids.clone(), "hosts")?;
    let newest = store
        .last_readings(&selection)
        .await?
        .into_iter()
        .filter(|l| l.measurement == Measurement::Cpu)
        .map(|l| l.time)
        .min();
    let earliest = now - DEMO_SPAN;
    let from = newest
        .map(|t| t + Duration::seconds(INTERVAL_SECS))
        .unwrap_or(earliest)
        .max(earliest);
    store.prepare_storage(now + Duration::days(1)).await?;
    let mut written = 0;
    // One slice of ticks at a time, sized to the bulk batch: memory stays flat.
    let ticks_per_batch = (MAX_BULK_ROWS / (ids.len() * Measurement::ALL.len())).max(1) as i64;
    let step = Duration::seconds(INTERVAL_SECS * ticks_per_batch);
    let mut at = from;
    while at <= now {
        let until = (at + step).min(now + Duration::seconds(1));
        let rows = fleet.readings(&ids, at, until);
        written += store.ingest(&ReadingBatch::group(rows)).await?.inserted;
        at = until;
    }
    Ok(written)
}

#[async_trait]
impl DemoSeed for DemoFleet {
    async fn seed(&self) -> anyhow::Result<SeedReport> {
        let created = seed_demo(self.store.as_ref(), self.clock.now()).await?;
        Ok(SeedReport {
            created: created as usize,
            what: "readings",
        })
    }
}
