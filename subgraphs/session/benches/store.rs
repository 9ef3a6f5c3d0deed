//! The Redis session store measured directly (no GraphQL, no gateway): sign-in, validation,
//! revocation and listing as the port's callers make them, and the memory a session costs.
//! `subgraphs/session/bench/run` runs it beside `redis-benchmark GET` on the same Redis at the
//! same concurrency and prints medians and ratios.
//!
//!   POLYGATE_BENCH_REDIS_URL=redis://127.0.0.1:56392 cargo bench -p polygate-session --bench store
//!
//! Environment: MODE (`ops` | `memory`), CONCURRENCY (32), SECONDS per operation (5),
//! SESSIONS for `memory` (20000). `ops` prints one `RESULT op=… ops_per_sec=… p50_us=… p99_us=…`
//! line per operation; `memory` prints `MEMORY layout=… sessions=… bytes_per_session=…` lines.
//! Each run uses a fresh key prefix; `memory` wants a Redis nobody else writes to meanwhile
//! (it reads `INFO memory` before and after).

use std::sync::Arc;
use std::time::{Duration, Instant};

use polygate_kit::testing::unique_name;
use polygate_session::store::{RedisStore, SessionPolicy, SessionStore, parse_token};
use tokio::sync::Mutex;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `op(worker, i)` from `concurrency` tasks until `seconds` pass or an op answers `false`
/// (nothing left to do); prints the operation's throughput and latency.
async fn measure<F, Fut>(name: &str, concurrency: usize, seconds: u64, op: F)
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    // Collected before awaiting: spawning lazily would run the tasks one after another.
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = 0;
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let more = op(w, i).await;
                    if !more {
                        break;
                    }
                    latencies.push(t.elapsed());
                    i += 1;
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("worker ran"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e6)
    };
    println!(
        "RESULT op={name} ops_per_sec={:.0} p50_us={:.0} p99_us={:.0} calls={}",
        latencies.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        latencies.len()
    );
}

async fn ops(url: &str, concurrency: usize, seconds: u64) -> anyhow::Result<()> {
    let store: Arc<dyn SessionStore> = Arc::new(
        RedisStore::connect(url, SessionPolicy::default(), &unique_name("psbench")).await?,
    );
    let tokens = Arc::new(Mutex::new(Vec::<String>::new()));

    // Sign-in of users below the cap: one script, one round trip.
    let (s, t) = (store.clone(), tokens.clone());
    measure("create", concurrency, seconds, move |w, i| {
        let (s, t) = (s.clone(), t.clone());
        async move {
            let (token, _) = s.create(&format!("b{w}_{i}"), false).await.expect("create");
            t.lock().await.push(token);
            true
        }
    })
    .await;
    let created = Arc::new(tokens.lock().await.clone());

    // Validation with touch (the gateway's sign-in per request), round-robin over the sessions.
    let (s, c) = (store.clone(), created.clone());
    measure("validate", concurrency, seconds, move |w, i| {
        let (s, c) = (s.clone(), c.clone());
        async move {
            let token = &c[(w + i * concurrency) % c.len()];
            assert!(s.validate(token).await.expect("validate").is_some());
            true
        }
    })
    .await;

    // Validation with the session's rate-limit bucket (what the gateway sends with limits on).
    let (s, c) = (store.clone(), created.clone());
    measure("validate_metered", concurrency, seconds, move |w, i| {
        let (s, c) = (s.clone(), c.clone());
        async move {
            let token = &c[(w + i * concurrency) % c.len()];
            let answer = s.validate_metered(token, 1_000_000, 1_000_000.0, 1).await;
            assert!(answer.expect("validate_metered").is_some());
            true
        }
    })
    .await;

    // Listing 10 users' sessions in one call (the User.sessions batcher): two round trips.
    let (s, c) = (store.clone(), created.clone());
    measure("sessions_of_10_users", concurrency, seconds, move |w, i| {
        let (s, c) = (s.clone(), c.clone());
        async move {
            let users: Vec<String> = (0..10)
                .map(|k| {
                    let token = &c[(w + (i * 10 + k) * concurrency) % c.len()];
                    let parts = parse_token(token).expect("a token we made");
                    parts.user_id.to_owned()
                })
                .collect();
            let listed = s.sessions_of_users(&users).await.expect("list");
            assert!(listed.values().all(|sessions| sessions.len() == 1));
            true
        }
    })
    .await;

    // Sign-in of a user already at the cap: the script names the user's sessions, the second
    // call declares them and evicts the least recently used.
    let s = store.clone();
    measure("create_past_the_cap", concurrency, seconds, move |w, _| {
        let s = s.clone();
        async move {
            s.create(&format!("capped{w}"), false)
                .await
                .expect("create");
            true
        }
    })
    .await;

    // Logout, until the sessions created above run out.
    let s = store.clone();
    measure("revoke_token", concurrency, seconds, move |w, i| {
        let (s, c) = (s.clone(), created.clone());
        async move {
            let Some(token) = c.get(w + i * concurrency) else {
                return false;
            };
            assert!(s.revoke_token(token).await.expect("revoke"));
            true
        }
    })
    .await;
    Ok(())
}

async fn used_memory(conn: &mut redis::aio::MultiplexedConnection) -> anyhow::Result<i64> {
    let info: String = redis::cmd("INFO").arg("memory").query_async(conn).await?;
    info.lines()
        .find_map(|l| l.trim().strip_prefix("used_memory:")?.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("INFO memory has no used_memory"))
}

/// Signs `users × per_user` sessions in, meters each once if `metered`, and prints the
/// `used_memory` growth per session.
async fn memory_layout(
    url: &str,
    layout: &str,
    users: usize,
    per_user: usize,
    metered: bool,
    concurrency: usize,
) -> anyhow::Result<()> {
    let prefix = unique_name("psmem");
    let store = Arc::new(RedisStore::connect(url, SessionPolicy::default(), &prefix).await?);
    let mut conn = redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await?;
    let before = used_memory(&mut conn).await?;
    let chunks: Vec<_> = (0..concurrency)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut u = w;
                while u < users {
                    for _ in 0..per_user {
                        let (token, _) =
                            store.create(&format!("m{u}"), false).await.expect("create");
                        if metered {
                            let answer = store.validate_metered(&token, 60, 20.0, 1).await;
                            assert!(answer.expect("metered").is_some());
                        }
                    }
                    u += concurrency;
                }
            })
        })
        .collect();
    for chunk in chunks {
        chunk.await?;
    }
    let after = used_memory(&mut conn).await?;
    let sessions = users * per_user;
    let per_session = (after - before) as f64 / sessions as f64;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:{{u:m0}}:*"))
        .query_async(&mut conn)
        .await?;
    let mut hash_bytes = 0;
    let mut index_bytes = 0;
    for key in &keys {
        let bytes: i64 = redis::cmd("MEMORY")
            .arg("USAGE")
            .arg(key)
            .arg("SAMPLES")
            .arg(0)
            .query_async(&mut conn)
            .await?;
        if key.ends_with(":idx") {
            index_bytes += bytes;
        } else {
            hash_bytes += bytes;
        }
    }
    println!(
        "MEMORY layout={layout} sessions={sessions} bytes_per_session={per_session:.0} \
         sessions_per_gib={:.0} memory_usage_hash={} memory_usage_index={index_bytes}",
        (1u64 << 30) as f64 / per_session,
        hash_bytes / per_user as i64,
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let Ok(url) = std::env::var("POLYGATE_BENCH_REDIS_URL") else {
        eprintln!("SKIPPED: set POLYGATE_BENCH_REDIS_URL (subgraphs/session/bench/run does)");
        return Ok(());
    };
    let concurrency: usize = env_or("CONCURRENCY", 32);
    match std::env::var("MODE").as_deref().unwrap_or("ops") {
        "memory" => {
            let sessions: usize = env_or("SESSIONS", 20_000);
            memory_layout(&url, "one_per_user", sessions, 1, false, concurrency).await?;
            memory_layout(&url, "one_per_user_metered", sessions, 1, true, concurrency).await?;
            memory_layout(&url, "ten_per_user", sessions / 10, 10, false, concurrency).await?;
        }
        _ => ops(&url, concurrency, env_or("SECONDS", 5)).await?,
    }
    Ok(())
}
