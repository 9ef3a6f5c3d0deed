//! One process's copy of a token bucket that lives in a shared store, between two calls to the
//! store: it admits requests in place and keeps count of them, so the next store call can bill
//! them late, in full (the `cost` of [`crate::auth::TokenVerifier::verify_metered`] and
//! [`crate::auth::RateLimiter::take`]).
//!
//! Used by the session validation cache (a session's bucket) and the gateway's client meter (a
//! client address's bucket). The copy is seeded with what the store said was left and refilled
//! at the bucket's rate, never above its capacity. Reseeding it from a store answer that bills
//! everything it admitted never makes it richer than a bucket of the same shape that this
//! process alone had taken every admission from (the store's bucket only ever refills the same
//! way, and loses tokens to other processes too): so one process alone holds a key to its
//! bucket exactly, and N processes hold it to at most N times its burst and rate between their
//! store calls, which then bill the overshoot as debt.
//!
//! Time is an argument (`now`), never read here: callers pass `Instant::now()`, tests pass the
//! instants they want.

use std::time::Instant;

use crate::auth::RateVerdict;

/// A bucket's shape: `capacity` tokens, refilled at `per_sec`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketShape {
    pub capacity: u32,
    pub per_sec: f64,
}

/// This process's copy of one key's bucket between two store calls.
#[derive(Debug, Clone)]
pub struct LocalBucket {
    shape: BucketShape,
    /// May be below zero after a refused store call: the wait the store asked for.
    tokens: f64,
    refilled: Instant,
    /// Tokens taken here since the last store call; the next one bills them.
    unbilled: u32,
}

impl LocalBucket {
    /// The bucket as the store left it at `now`: `remaining` tokens, or, when it refused,
    /// empty until its `retry_after`.
    pub fn seeded(shape: BucketShape, verdict: &RateVerdict, now: Instant) -> Self {
        let tokens = if verdict.allowed {
            f64::from(verdict.remaining)
        } else {
            1.0 - verdict.retry_after_ms as f64 * shape.per_sec / 1000.0
        };
        LocalBucket {
            shape,
            tokens,
            refilled: now,
            unbilled: 0,
        }
    }

    pub fn shape(&self) -> BucketShape {
        self.shape
    }

    /// Refills to `now`, then takes `cost` tokens if there are that many (and counts them as
    /// unbilled); otherwise takes nothing and says how long until there are.
    pub fn take(&mut self, cost: u32, now: Instant) -> RateVerdict {
        self.refill(now);
        let cost_tokens = f64::from(cost);
        if self.tokens >= cost_tokens {
            self.tokens -= cost_tokens;
            self.unbilled = self.unbilled.saturating_add(cost);
            return RateVerdict {
                allowed: true,
                retry_after_ms: 0,
                remaining: self.tokens.floor() as u32,
            };
        }
        let wait_ms = (cost_tokens - self.tokens) * 1000.0 / self.shape.per_sec;
        RateVerdict {
            allowed: false,
            retry_after_ms: (wait_ms.ceil() as u64).max(1),
            remaining: 0,
        }
    }

    /// True when, refilled to `now`, the copy is back to its capacity: forgetting it then
    /// forgets nothing the store would not also have refilled.
    pub fn is_full_at(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens + elapsed * self.shape.per_sec >= f64::from(self.shape.capacity)
    }

    /// The requests admitted here since the last store call, handed over to bill them (so no
    /// two store calls bill them twice).
    pub fn take_unbilled(&mut self) -> u32 {
        std::mem::take(&mut self.unbilled)
    }

    /// The store could not be asked: requests handed over by
    /// [`take_unbilled`](Self::take_unbilled) stay unbilled.
    pub fn rebill(&mut self, unbilled: u32) {
        self.unbilled = self.unbilled.saturating_add(unbilled);
    }

    /// A fresh seed replacing `previous`, which admitted requests after its unbilled ones were
    /// handed to the store call this seed answers: those stay unbilled, and are already spent.
    pub fn carrying(mut self, previous: &LocalBucket) -> Self {
        self.unbilled = previous.unbilled;
        self.tokens -= f64::from(previous.unbilled);
        self
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens =
            (self.tokens + elapsed * self.shape.per_sec).min(f64::from(self.shape.capacity));
        self.refilled = self.refilled.max(now);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const SHAPE: BucketShape = BucketShape {
        capacity: 3,
        per_sec: 1.0,
    };

    fn allowed(remaining: u32) -> RateVerdict {
        RateVerdict {
            allowed: true,
            retry_after_ms: 0,
            remaining,
        }
    }

    #[test]
    fn a_seeded_copy_admits_what_the_store_left_then_refills_at_the_rate() {
        let t0 = Instant::now();
        let mut bucket = LocalBucket::seeded(SHAPE, &allowed(2), t0);
        assert!(bucket.take(1, t0).allowed);
        assert!(bucket.take(1, t0).allowed);
        let empty = bucket.take(1, t0);
        assert!(!empty.allowed);
        assert_eq!(empty.retry_after_ms, 1_000);
        assert!(bucket.take(1, t0 + Duration::from_secs(1)).allowed);
        assert_eq!(bucket.take_unbilled(), 3);
        assert_eq!(bucket.take_unbilled(), 0);
        assert!(bucket.is_full_at(t0 + Duration::from_secs(4)));
        assert!(!bucket.is_full_at(t0 + Duration::from_secs(2)));
    }

    #[test]
    fn a_refusal_seeds_a_copy_empty_until_retry_after() {
        let t0 = Instant::now();
        let refused = RateVerdict {
            allowed: false,
            retry_after_ms: 2_500,
            remaining: 0,
        };
        let mut bucket = LocalBucket::seeded(SHAPE, &refused, t0);
        let held = bucket.take(1, t0 + Duration::from_millis(1_000));
        assert_eq!((held.allowed, held.retry_after_ms), (false, 1_500));
        assert!(bucket.take(1, t0 + Duration::from_millis(2_500)).allowed);
    }

    #[test]
    fn a_new_seed_carries_what_the_old_copy_admitted_meanwhile() {
        let t0 = Instant::now();
        let mut old = LocalBucket::seeded(SHAPE, &allowed(3), t0);
        assert!(old.take(1, t0).allowed);
        let handed = old.take_unbilled();
        assert!(old.take(1, t0).allowed); // admitted while the store call travels
        let mut fresh = LocalBucket::seeded(SHAPE, &allowed(1), t0).carrying(&old);
        assert_eq!(handed, 1);
        assert!(!fresh.take(1, t0).allowed, "the carried request spent it");
        assert_eq!(fresh.take_unbilled(), 1);
    }
}
