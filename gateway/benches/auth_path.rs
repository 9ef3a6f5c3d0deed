//! Session validation through the gateway's auth path, against a real Redis.
//!
//! Runs `Gatekeeper::admit` (token check with touch, plus the rate-limit buckets as configured)
//! from CONCURRENCY tasks for SECONDS, exactly as the auth plugin calls it per request, and
//! prints validations per second and latency percentiles. `gateway/bench/sessions` runs it next
//! to `redis-benchmark GET` at the same concurrency and prints the ratio.
//!   POLYGATE_BENCH_REDIS_URL=redis://127.0.0.1:56390 cargo bench -p polygate --bench auth_path
//! Environment: CONCURRENCY (32), SECONDS (10), SESSIONS (1000), LIMITS (`off` | `on`).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use polygate::admission::client_meter::{self, ClientMeter};
use polygate::admission::{Admission, Bucket, Gatekeeper, RateLimits};
use polygate_kit::auth::SessionIssuer;
use polygate_session::{SessionAuth, SessionPolicy};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let Ok(url) = std::env::var("POLYGATE_BENCH_REDIS_URL") else {
        eprintln!("SKIPPED: set POLYGATE_BENCH_REDIS_URL (gateway/bench/sessions does)");
        return Ok(());
    };
    let concurrency: usize = env_or("CONCURRENCY", 32);
    let seconds: u64 = env_or("SECONDS", 10);
    let sessions: usize = env_or("SESSIONS", 1000);
    let limits = if std::env::var("LIMITS").is_ok_and(|v| v == "on") {
        RateLimits {
            per_client: Bucket::new(10_000_000, 10_000_000),
            per_session: Bucket::new(10_000_000, 10_000_000),
        }
    } else {
        RateLimits::default()
    };

    let store = polygate_session::connect(&url, SessionPolicy::default()).await?;
    let auth = SessionAuth(store);
    let mut tokens = Vec::with_capacity(sessions);
    for i in 0..sessions {
        tokens.push(auth.issue(&format!("bench{i}"), false).await?.token);
    }
    let keeper = Arc::new(Gatekeeper {
        verifier: Arc::new(auth.clone()),
        limiter: Arc::new(auth),
        limits,
        // Signed-in requests only: the client meter never meets them.
        client_meter: ClientMeter::new(Duration::ZERO, client_meter::MAX_ENTRIES),
    });
    let tokens = Arc::new(tokens);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    // Collected before awaiting: spawning lazily would run the tasks one after another.
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let keeper = keeper.clone();
            let tokens = tokens.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = w;
                while Instant::now() < deadline {
                    let token = tokens[i % tokens.len()].clone();
                    let started = Instant::now();
                    let admitted = keeper
                        .admit(Some(token), Some(IpAddr::from([127, 0, 0, 1])))
                        .await;
                    latencies.push(started.elapsed());
                    assert!(
                        matches!(admitted, Admission::Admitted(Some(_))),
                        "a live session must validate"
                    );
                    i += concurrency;
                }
                latencies
            })
        })
        .collect();
    let started = Instant::now();
    let mut latencies: Vec<Duration> = Vec::new();
    for worker in workers {
        latencies.extend(worker.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "RESULT validations_per_sec={:.0} p50_us={} p99_us={} count={} concurrency={concurrency}",
        latencies.len() as f64 / elapsed,
        pct(0.50).as_micros(),
        pct(0.99).as_micros(),
        latencies.len()
    );
    Ok(())
}
