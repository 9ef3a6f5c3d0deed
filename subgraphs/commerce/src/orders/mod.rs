//! The order saga: placing, cancelling and shipping orders as sequences of idempotent store
//! steps, and the sweeper that finishes what a crashed process left half done.
//!
//! Non-obvious: on Postgres the buyer's orders and the stock live in different databases, so no
//! transaction spans a whole `placeOrder`. Safety comes from ordering instead: the request row
//! is written first (it holds everything needed to resume), each later step is idempotent and
//! keyed by the order id, and the only states a crash can leave behind (`Reserving`,
//! `Releasing`) are exactly the ones a retry or the sweeper drives forward.

mod cancel;
pub mod crash_point;
mod place;
mod ship;
mod sweep;

pub use cancel::{CancelError, cancel_order, finish as finish_release};
pub use place::{MAX_LINES, PlaceError, PlaceOrder, place_order};
pub use ship::{StatusError, mark_delivered, ship_order};
pub use sweep::{SweepReport, run_sweeper, sweep};
