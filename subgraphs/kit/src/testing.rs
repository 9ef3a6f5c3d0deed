//! Test helpers: finding the real servers `e2e/servers/` started.
//!
//! A test that needs a server reads its URL from the environment. When the variable is unset the
//! test is skipped with a printed reason, except under CI (`CI` set), where a missing server is a
//! broken set-up and fails loudly instead of passing silently.

/// The URL in `var`, or `None` after printing why the calling test is skipped.
///
/// # Panics
/// When `var` is unset and `CI` is set.
pub fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{var} is not set under CI: the test command must start this server")
        }
        _ => {
            eprintln!(
                "SKIPPED: {var} is not set; run the suite with `e2e/run-tests` to start the server"
            );
            None
        }
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
