//! What the store's upkeep reports: stock counters that disagree with the reservations they
//! total, and the settled rows (and final payments) moved out of the hot tables.
//!
//! Non-obvious: `inventory.reserved` is a copy (the sum of the held reservations of its
//! product and warehouse) kept so that holding stock reads and locks one row, not a sum;
//! [`InventoryDrift`] is how that copy is checked.

use crate::ids::{ProductId, WarehouseId};

/// One stock row whose `reserved` is not the total of its held reservations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryDrift {
    pub product: ProductId,
    pub warehouse: WarehouseId,
    /// `inventory.reserved` (0 when reservations are held for a row that does not exist).
    pub reserved: i64,
    /// The sum of the held reservations of the row.
    pub held: i64,
}

/// Settled rows moved out of the hot tables by one archiving pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArchiveReport {
    /// Order requests whose saga finished (`rejected`, `cancelled`, `shipped`).
    pub requests: u64,
    /// Stock reservations released or shipped.
    pub reservations: u64,
    /// Payments in a final state (`failed`, `refunded`, or `captured` for an order that
    /// shipped, was delivered or was refunded).
    pub payments: u64,
}

impl ArchiveReport {
    pub fn add(&mut self, other: ArchiveReport) {
        self.requests += other.requests;
        self.reservations += other.reservations;
        self.payments += other.payments;
    }
}
