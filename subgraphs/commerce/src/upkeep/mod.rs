//! The store's upkeep, run by itself: an in-process scheduler (a kit `BackgroundTask`) that,
//! every `maintenance_every_secs`, makes the coming months' partitions and detaches old ones on
//! every database, moves settled saga rows to their archives, and checks the stock counters; and
//! the same pass on demand (`polygate-commerce maintain`).
//!
//! Non-obvious: every gateway and commerce process runs the scheduler, and one of them does the
//! work: the one holding a session advisory lock on the catalog database ([`leader`]). If it
//! dies, its connection closes, the lock goes with it, and another process takes over on its
//! next tick. The pass is safe to run twice anyway (every step is idempotent, and partition
//! changes take their own lock), so the election saves work and lock traffic, not correctness.

pub mod clock;
pub mod leader;
mod metrics;
pub mod pass;
pub mod scheduler;

pub use clock::{Clock, SystemClock};
pub use pass::{PassReport, UpkeepSettings, run_pass};
pub use scheduler::{Scheduler, Tick};
