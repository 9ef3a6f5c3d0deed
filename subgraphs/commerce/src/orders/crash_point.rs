//! Named points where the process can be made to die on purpose, so tests can prove that a
//! crash between two steps of the saga loses nothing and applies nothing twice.
//!
//! Set `POLYGATE_CRASH_AT=<point>` (e.g. `after_reserve`) and the process sends itself SIGKILL —
//! no unwinding, no destructors, no signal handler can intervene — the first time it reaches that
//! point. (`abort()` is not enough: the router installs a SIGABRT handler.) Unset, a point costs
//! one load of a cached value.

use std::sync::OnceLock;

pub const ENV: &str = "POLYGATE_CRASH_AT";

/// After the order request is stored, before stock is reserved.
pub const AFTER_OPEN: &str = "after_open";
/// After stock is reserved, before the order is written.
pub const AFTER_RESERVE: &str = "after_reserve";
/// After the order is marked cancelled, before its stock is released.
pub const AFTER_CANCEL_MARK: &str = "after_cancel_mark";
/// After the order is marked shipped, before its stock leaves the warehouse.
pub const AFTER_SHIP_MARK: &str = "after_ship_mark";

pub fn reached(point: &str) {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    let armed = ARMED.get_or_init(|| std::env::var(ENV).ok().filter(|p| !p.is_empty()));
    if armed.as_deref() == Some(point) {
        eprintln!("{ENV}={point}: killing this process on purpose");
        // SAFETY: kill(2) with our own pid and a constant signal has no memory-safety conditions.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
        unreachable!("SIGKILL cannot be caught");
    }
}
