//! Test helpers: finding the real servers `e2e/servers/` started, and saying why a test skips.
//!
//! A test that needs a server reads its URL from the environment. Under the README's test
//! command (`e2e/run-tests` sets [`REQUIRE_SERVERS_VAR`]) or CI, a missing server is a broken
//! set-up and fails the test. Anywhere else the test is skipped and says why on the terminal,
//! even though cargo captures a passing test's output. Every skip is also appended to the file
//! named by [`SKIP_LOG_VAR`], so the test command can end with each skip and its reason.

use std::io::Write as _;

/// Set (to anything) by the test command: a test whose server is missing fails.
pub const REQUIRE_SERVERS_VAR: &str = "POLYGATE_TEST_REQUIRE_SERVERS";
/// A file every skip is appended to, one line each: `<test>: <reason>`.
pub const SKIP_LOG_VAR: &str = "POLYGATE_TEST_SKIP_LOG";

/// The URL in `var`, or `None` after saying why the calling test is skipped.
///
/// # Panics
/// When `var` is unset under the test command or CI: the command must start this server.
pub fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os(REQUIRE_SERVERS_VAR).is_some()
            || std::env::var_os("CI").is_some() =>
        {
            panic!("{var} is not set: the test command must start this server")
        }
        _ => {
            skip(&format!(
                "{var} is not set; run the suite with `e2e/run-tests` to start the server"
            ));
            None
        }
    }
}

/// The URL in `var` for a server the test command cannot run on a new machine (`why` says
/// which and how to run it by hand), or `None` after saying why the test is skipped. Never
/// fails: this is the one kind of skip the test command allows besides [`skip`].
pub fn optional_server_url(var: &str, why: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            skip(&format!("{var} is not set: {why}"));
            None
        }
    }
}

/// Says on the terminal (past cargo's capture) and in the skip log why the calling test does
/// not check what it would: e.g. a capability the test server lacks, named.
pub fn skip(reason: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let line = format!("{test}: {reason}");
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED {line}");
    if let Some(path) = std::env::var_os(SKIP_LOG_VAR)
        && let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = writeln!(file, "{line}");
    }
}

/// Polls `ready` every 5 ms until it holds; panics naming `what` once `limit` has passed.
pub async fn until(what: &str, limit: std::time::Duration, mut ready: impl AsyncFnMut() -> bool) {
    let started = std::time::Instant::now();
    while !ready().await {
        assert!(started.elapsed() < limit, "waited too long for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// A name unique to this process and call, for a fresh database or key prefix per test.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A fresh folder under the system's temp dir, removed with everything in it when dropped, so
/// embedded stores a test opens (often tens of MB once seeded) do not pile up in `/tmp`.
/// Keep it alive as long as the store that lives in it.
pub struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    pub fn new(prefix: &str) -> Self {
        let path = std::env::temp_dir().join(unique_name(prefix));
        std::fs::create_dir_all(&path).expect("create a scratch dir under the temp dir");
        Self(path)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = std::path::Path;

    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh, randomly named database per test on the real server, so tests run in parallel and
/// never see each other's rows.
#[cfg(feature = "postgres-testing")]
pub mod postgres {
    use std::future::Future;
    use std::panic::AssertUnwindSafe;

    use futures::FutureExt as _;
    use sqlx::{Connection, Executor, PgConnection};

    /// Where the test command's PostgreSQL listens (an admin URL).
    pub const URL_VAR: &str = "POLYGATE_TEST_POSTGRES_URL";

    /// A second server, for tests that need two physical databases (sharding).
    pub const SECOND_URL_VAR: &str = "POLYGATE_TEST_POSTGRES2_URL";
    /// A streaming replica of the [`URL_VAR`] server.
    pub const REPLICA_URL_VAR: &str = "POLYGATE_TEST_POSTGRES_REPLICA_URL";

    /// Creates a database named after `prefix`, runs `check` with its URL, then drops it, also
    /// when `check` panics. Returns at once (test skipped, see [`super::server_url`]) when no
    /// server is configured.
    pub async fn with_fresh_database<F, Fut>(prefix: &str, check: F)
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = ()>,
    {
        with_fresh_databases(prefix, &[URL_VAR], |mut urls| check(urls.remove(0))).await;
    }

    /// Like [`with_fresh_database`], with one fresh database on each server named by `vars`
    /// (environment variables holding admin URLs); `check` gets their URLs in the same order.
    pub async fn with_fresh_databases<F, Fut>(prefix: &str, vars: &[&str], check: F)
    where
        F: FnOnce(Vec<String>) -> Fut,
        Fut: Future<Output = ()>,
    {
        let mut admins = Vec::new();
        for var in vars {
            let Some(admin_url) = super::server_url(var) else {
                return;
            };
            admins.push(admin_url);
        }
        let name = super::unique_name(prefix);
        let mut urls = Vec::new();
        for admin_url in &admins {
            let mut admin = PgConnection::connect(admin_url)
                .await
                .expect("connect to the test server as admin");
            admin
                .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
                .await
                .expect("create the test database");
            urls.push(database_url(admin_url, &name));
        }

        let outcome = AssertUnwindSafe(check(urls)).catch_unwind().await;

        for admin_url in &admins {
            let mut admin = PgConnection::connect(admin_url)
                .await
                .expect("connect to the test server as admin");
            admin
                .execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
                .await
                .expect("drop the test database");
        }
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }

    /// `server_url` with its path (database name) replaced by `database`.
    pub fn database_url(server_url: &str, database: &str) -> String {
        let mut url = url::Url::parse(server_url).expect("a valid server URL");
        url.set_path(database);
        url.to_string()
    }
}
