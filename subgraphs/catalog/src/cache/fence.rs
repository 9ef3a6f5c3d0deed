//! The last invalidation of every stripe of keys on one logical clock: what fill tickets are
//! checked against. A fixed table of stripes keeps it bounded without clean-up; two keys sharing
//! a stripe only cost a refused fill.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Where the invalidation history stood when a reader was about to read the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FillTicket(u64);

pub struct Fence {
    clock: AtomicU64,
    stripes: Box<[AtomicU64]>,
}

impl Default for Fence {
    fn default() -> Self {
        Self::new()
    }
}

impl Fence {
    const STRIPE_BITS: u32 = 12;

    pub fn new() -> Self {
        Self {
            clock: AtomicU64::new(0),
            stripes: (0..1 << Self::STRIPE_BITS)
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }

    pub fn ticket(&self) -> FillTicket {
        FillTicket(self.clock.load(Ordering::SeqCst))
    }

    /// Records an invalidation of `keys`, later than every ticket handed out so far.
    pub fn invalidate<'a>(&self, keys: impl IntoIterator<Item = &'a str>) {
        let tick = self.clock.fetch_add(1, Ordering::SeqCst) + 1;
        for key in keys {
            self.stripe(key).fetch_max(tick, Ordering::SeqCst);
        }
    }

    /// Whether `key` was not invalidated since `ticket` was taken.
    pub fn admits(&self, key: &str, ticket: FillTicket) -> bool {
        self.stripe(key).load(Ordering::SeqCst) <= ticket.0
    }

    fn stripe(&self, key: &str) -> &AtomicU64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut hasher);
        let index = (hasher.finish() >> (64 - Self::STRIPE_BITS)) as usize;
        &self.stripes[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fence_refuses_fills_older_than_an_invalidation() {
        let fence = Fence::new();
        let before = fence.ticket();
        fence.invalidate(["MUG-01"]);
        assert!(!fence.admits("MUG-01", before));
        assert!(fence.admits("MUG-01", fence.ticket()));
    }
}
