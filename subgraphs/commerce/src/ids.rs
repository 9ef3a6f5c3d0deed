//! Application-generated 64-bit ids, Instagram style: 41 bits of milliseconds since
//! [`EPOCH_UNIX_MS`], 13 bits of logical shard, 10 bits of per-millisecond sequence.
//!
//! Non-obvious: the generator keeps one process-wide `(millisecond, sequence)` counter and, when
//! the 1024 ids of a millisecond run out (or the wall clock steps back), it borrows the next
//! millisecond instead of waiting. Ids stay unique within a process and increase with time to the
//! millisecond (within one millisecond they order by shard, then sequence), so keyset pagination
//! by id is creation order at millisecond resolution. Users, products and orders all use [`generate`].

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

/// 2026-01-01T00:00:00Z in Unix milliseconds.
pub const EPOCH_UNIX_MS: u64 = 1_767_225_600_000;
pub const SHARD_BITS: u32 = 13;
pub const SEQUENCE_BITS: u32 = 10;
/// Largest logical shard number an id can carry.
pub const MAX_SHARD: u16 = (1 << SHARD_BITS) - 1;
/// The shard of rows that are not sharded (catalog rows) and of the first demo users.
pub const DEFAULT_SHARD: u16 = 0;

const SEQUENCE_MASK: u64 = (1 << SEQUENCE_BITS) - 1;

/// `(ms since epoch) << SEQUENCE_BITS | sequence` of the last id handed out.
static LAST: AtomicU64 = AtomicU64::new(0);

/// A new raw id on `shard`.
///
/// # Panics
/// When `shard > MAX_SHARD` (a programming error).
pub fn generate(shard: u16) -> i64 {
    assert!(
        shard <= MAX_SHARD,
        "shard {shard} does not fit in {SHARD_BITS} bits"
    );
    let now = now_ms_since_epoch() << SEQUENCE_BITS;
    let mut last = LAST.load(Ordering::Relaxed);
    let next = loop {
        let candidate = if now > last { now } else { last + 1 };
        match LAST.compare_exchange_weak(last, candidate, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => break candidate,
            Err(seen) => last = seen,
        }
    };
    let ms = next >> SEQUENCE_BITS;
    let sequence = next & SEQUENCE_MASK;
    ((ms << (SHARD_BITS + SEQUENCE_BITS)) | (u64::from(shard) << SEQUENCE_BITS) | sequence) as i64
}

fn now_ms_since_epoch() -> u64 {
    let unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    unix_ms.saturating_sub(EPOCH_UNIX_MS)
}

/// The instant (to the millisecond) encoded in a raw id.
pub fn created_at_of(raw: i64) -> chrono::DateTime<chrono::Utc> {
    let ms = (raw as u64 >> (SHARD_BITS + SEQUENCE_BITS)) + EPOCH_UNIX_MS;
    chrono::DateTime::from_timestamp_millis(ms as i64).unwrap_or_default()
}

/// The smallest raw id made at `at` (0 before the epoch): `id < first_id_at(t)` means "made
/// before t", which a btree on the id answers by range. SQL has the same: `commerce_id_at`.
pub fn first_id_at(at: chrono::DateTime<chrono::Utc>) -> i64 {
    let ms = u64::try_from(at.timestamp_millis()).unwrap_or_default();
    (ms.saturating_sub(EPOCH_UNIX_MS) << (SHARD_BITS + SEQUENCE_BITS)) as i64
}

/// The shard encoded in a raw id.
pub fn shard_of(raw: i64) -> u16 {
    ((raw as u64 >> SEQUENCE_BITS) & u64::from(MAX_SHARD)) as u16
}

/// The number of logical shards in use. Fixed for the life of the data: rows are placed by the
/// shard in their id, and only the shard map (logical shard → database) ever changes.
pub const LOGICAL_SHARDS: u16 = 256;

/// A uniformly random logical shard, for a new user.
pub fn pick_shard() -> u16 {
    rand::random_range(0..LOGICAL_SHARDS)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// A fresh id on `shard`.
            pub fn new(shard: u16) -> Self {
                Self(generate(shard))
            }

            /// Wraps a stored id; `None` for non-positive numbers, which no generator produces.
            pub fn from_i64(raw: i64) -> Option<Self> {
                (raw > 0).then_some(Self(raw))
            }

            pub fn as_i64(self) -> i64 {
                self.0
            }

            /// The logical shard encoded in the id.
            pub fn shard(self) -> u16 {
                shard_of(self.0)
            }

            /// When the id was generated, to the millisecond.
            pub fn created_at(self) -> chrono::DateTime<chrono::Utc> {
                created_at_of(self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = MalformedId;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let digits_only = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                digits_only
                    .then(|| s.parse::<i64>().ok())
                    .flatten()
                    .and_then(Self::from_i64)
                    .ok_or_else(|| MalformedId(s.chars().take(40).collect()))
            }
        }
    };
}

id_type!(
    /// A user's id; its shard places the user and all their orders.
    UserId
);
id_type!(
    /// A product's id. Products live in the catalog database, so the shard bits are unused (0).
    ProductId
);
id_type!(
    /// An order's id, generated on its buyer's shard so the id alone routes to the database.
    OrderId
);
id_type!(
    /// A warehouse's id (catalog database).
    WarehouseId
);
id_type!(
    /// An address book entry's id, on its user's shard (addresses live with their user).
    AddressId
);
id_type!(
    /// A payment's id, on its order's shard; also the idempotency key the provider is given.
    PaymentId
);

/// A string that is not the decimal form of a positive 64-bit id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id: {0:?}")]
pub struct MalformedId(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_unique_and_increasing() {
        let ids: Vec<UserId> = (0..5000).map(|_| UserId::new(DEFAULT_SHARD)).collect();
        assert!(ids.iter().all(|id| id.as_i64() > 0));
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn picked_shards_are_in_range_and_spread() {
        let picked: std::collections::HashSet<u16> = (0..2000).map(|_| pick_shard()).collect();
        assert!(picked.iter().all(|s| *s < LOGICAL_SHARDS));
        assert!(
            picked.len() > usize::from(LOGICAL_SHARDS) / 2,
            "{}",
            picked.len()
        );
    }

    #[test]
    fn an_order_id_carries_its_buyers_shard() {
        let buyer = UserId::new(pick_shard());
        assert_eq!(OrderId::new(buyer.shard()).shard(), buyer.shard());
    }

    #[test]
    fn the_shard_round_trips() {
        for shard in [0, 1, 42, MAX_SHARD] {
            assert_eq!(UserId::new(shard).shard(), shard);
        }
    }

    #[test]
    fn the_creation_instant_round_trips_to_the_millisecond() {
        let before = chrono::Utc::now().timestamp_millis();
        let id = OrderId::new(9);
        let at = id.created_at().timestamp_millis();
        assert!(at >= before && at - before < 1000, "{before} {at}");
    }

    #[test]
    fn ids_made_before_an_instant_are_below_its_first_id() {
        let id = OrderId::new(255);
        let at = id.created_at();
        assert!(id.as_i64() >= first_id_at(at));
        assert!(id.as_i64() < first_id_at(at + chrono::Duration::milliseconds(1)));
        assert_eq!(first_id_at(chrono::DateTime::UNIX_EPOCH), 0);
    }

    #[test]
    fn the_timestamp_is_close_to_now() {
        let id = UserId::new(3);
        let ms = (id.as_i64() as u64) >> (SHARD_BITS + SEQUENCE_BITS);
        assert!(ms.abs_diff(now_ms_since_epoch()) < 60_000);
    }

    #[test]
    fn decimal_strings_parse_and_garbage_does_not() {
        let id = UserId::new(0);
        assert_eq!(id.to_string().parse::<UserId>(), Ok(id));
        for bad in [
            "",
            "abc",
            "-5",
            "0",
            "+5",
            " 5",
            "99999999999999999999",
            "1.5",
        ] {
            assert!(bad.parse::<UserId>().is_err(), "{bad:?}");
        }
    }
}
