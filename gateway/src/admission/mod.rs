//! Admission of one client request: who is asking (bearer token → viewer) and whether they may
//! ask now (token buckets shared by every gateway instance through the session store).
//!
//! A signed-in request is metered by its session, in the same store call that checks and touches
//! the token: one round trip, and usually none, because the verifier the gateway wires answers
//! from a short-lived validation cache (`polygate_session::validation_cache`) that bills the session's bucket late but in full.
//! Anonymous requests, and requests whose token does not check out (guessing, expired sessions),
//! are metered by client address, and usually without a round trip either: the gateway keeps a
//! copy of each address's bucket for `limits.client_meter_ms` after the store answered for it
//! ([`client_meter`]) and bills the store late but in full. Sessions, not addresses, meter
//! signed-in users because many users share one address (offices, mobile carriers' NAT) while a
//! session is one user; sign-in attempts themselves are anonymous, so they are metered per
//! address. A store that cannot answer lets the request through anonymously (logged): failing
//! closed would turn a session-store outage into a whole-API outage.

pub mod client_meter;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use polygate_kit::Viewer;
use polygate_kit::auth::{RateLimiter, RateVerdict, TokenVerifier};
use polygate_kit::local_bucket::BucketShape;

use client_meter::ClientMeter;

/// One token bucket: `burst` requests at once, refilled at `per_sec`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub burst: u32,
    pub per_sec: f64,
}

impl Bucket {
    /// `None` (no limit) when either number is 0.
    pub fn new(per_sec: u32, burst: u32) -> Option<Bucket> {
        (per_sec > 0 && burst > 0).then_some(Bucket {
            burst,
            per_sec: f64::from(per_sec),
        })
    }

    fn shape(self) -> BucketShape {
        BucketShape {
            capacity: self.burst,
            per_sec: self.per_sec,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateLimits {
    pub per_client: Option<Bucket>,
    pub per_session: Option<Bucket>,
}

pub enum Admission {
    Admitted(Option<Viewer>),
    /// Over a limit; the client may retry after this many milliseconds.
    Limited {
        scope: &'static str,
        retry_after_ms: u64,
    },
}

pub struct Gatekeeper {
    pub verifier: Arc<dyn TokenVerifier>,
    pub limiter: Arc<dyn RateLimiter>,
    pub limits: RateLimits,
    /// This gateway's copies of client addresses' buckets (`limits.client_meter_ms`).
    pub client_meter: ClientMeter,
}

impl Gatekeeper {
    /// The admission of one request; may ask the session store (run it on the stores' runtime).
    pub async fn admit(&self, token: Option<String>, client_ip: Option<IpAddr>) -> Admission {
        // A token that does not check out is metered like any anonymous request.
        if let Some(token) = token
            && let Some((viewer, verdict)) = self.verify(&token).await
        {
            return signed_in(viewer, verdict);
        }
        let (Some(ip), Some(bucket)) = (client_ip, self.limits.per_client) else {
            return Admission::Admitted(None);
        };
        let metered = self
            .client_meter
            .admit(ip, bucket.shape(), &*self.limiter, Instant::now());
        match metered.await {
            Ok(verdict) => anonymous(verdict),
            Err(e) => {
                tracing::warn!(error = %e, %ip, "rate limiter unavailable; letting the request through");
                Admission::Admitted(None)
            }
        }
    }

    /// [`admit`](Self::admit) when it needs no store call and no waiting: a signed-in request
    /// whose verdict the validation cache holds, an anonymous one whose address's bucket the
    /// client meter holds (or that no limit applies to). `None` means "call `admit`". A caller
    /// on another runtime than the stores' (the auth plugin on an HTTP worker) can answer most
    /// requests in place and hand only the rest over.
    pub fn admit_now(&self, token: Option<&str>, client_ip: Option<IpAddr>) -> Option<Admission> {
        let Some(token) = token else {
            let (Some(ip), Some(bucket)) = (client_ip, self.limits.per_client) else {
                return Some(Admission::Admitted(None));
            };
            let verdict = self
                .client_meter
                .admit_now(ip, bucket.shape(), Instant::now())?;
            return Some(anonymous(verdict));
        };
        let (viewer, verdict) = match self.limits.per_session {
            Some(b) => {
                let (viewer, verdict) = self
                    .verifier
                    .verify_metered_now(token, b.burst, b.per_sec, 1)?;
                (viewer, Some(verdict))
            }
            None => (self.verifier.verify_now(token)?, None),
        };
        Some(signed_in(viewer, verdict))
    }

    /// The viewer behind `token`, with the session bucket's verdict when sessions are metered.
    async fn verify(&self, token: &str) -> Option<(Viewer, Option<RateVerdict>)> {
        let verified = match self.limits.per_session {
            Some(b) => self
                .verifier
                .verify_metered(token, b.burst, b.per_sec, 1)
                .await
                .map(|v| v.map(|(viewer, verdict)| (viewer, Some(verdict)))),
            None => self
                .verifier
                .verify(token)
                .await
                .map(|v| v.map(|viewer| (viewer, None))),
        };
        verified.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "cannot verify token; treating the request as anonymous");
            None
        })
    }
}

/// An anonymous request's admission: limited when its address's bucket said so.
fn anonymous(verdict: RateVerdict) -> Admission {
    if verdict.allowed {
        return Admission::Admitted(None);
    }
    Admission::Limited {
        scope: "client",
        retry_after_ms: verdict.retry_after_ms.max(1),
    }
}

/// A verified viewer's admission: limited when the session's bucket said so.
fn signed_in(viewer: Viewer, verdict: Option<RateVerdict>) -> Admission {
    match verdict {
        Some(verdict) if !verdict.allowed => Admission::Limited {
            scope: "session",
            retry_after_ms: verdict.retry_after_ms.max(1),
        },
        _ => Admission::Admitted(Some(viewer)),
    }
}

// The tests check real tokens against the session subgraph's memory store, so they need the
// build that links it.
#[cfg(all(test, feature = "session"))]
mod tests {
    use super::*;
    use polygate_session::{SessionAuth, SessionPolicy, store::MemoryStore};
    use std::time::Duration;

    /// Without the client meter: every anonymous request asks the store.
    fn gatekeeper(limits: RateLimits) -> (Gatekeeper, SessionAuth) {
        metered_gatekeeper(limits, Duration::ZERO)
    }

    fn metered_gatekeeper(limits: RateLimits, client_meter: Duration) -> (Gatekeeper, SessionAuth) {
        let auth = SessionAuth(Arc::new(MemoryStore::new(SessionPolicy::default())));
        let keeper = Gatekeeper {
            verifier: Arc::new(auth.clone()),
            limiter: Arc::new(auth.clone()),
            limits,
            client_meter: ClientMeter::new(client_meter, client_meter::MAX_ENTRIES),
        };
        (keeper, auth)
    }

    fn ip(address: &str) -> Option<IpAddr> {
        Some(address.parse().unwrap())
    }

    #[test]
    fn a_zero_rate_or_burst_means_no_limit() {
        assert_eq!(Bucket::new(0, 10), None);
        assert_eq!(Bucket::new(10, 0), None);
        assert_eq!(
            Bucket::new(5, 10),
            Some(Bucket {
                burst: 10,
                per_sec: 5.0
            })
        );
    }

    #[tokio::test]
    async fn a_client_beyond_its_burst_is_limited_and_another_client_is_not() {
        let limits = RateLimits {
            per_client: Bucket::new(1, 3),
            per_session: None,
        };
        for meter in [Duration::ZERO, Duration::from_secs(10)] {
            let (keeper, _) = metered_gatekeeper(limits, meter);
            for _ in 0..3 {
                let admitted = keeper.admit(None, ip("10.0.0.1")).await;
                assert!(matches!(admitted, Admission::Admitted(None)));
            }
            let limited = keeper.admit(None, ip("10.0.0.1")).await;
            assert!(matches!(
                limited,
                Admission::Limited { scope: "client", retry_after_ms } if retry_after_ms > 0
            ));
            let other = keeper.admit(None, ip("10.0.0.2")).await;
            assert!(matches!(other, Admission::Admitted(None)));
        }
    }

    #[tokio::test]
    async fn admit_now_answers_anonymous_requests_from_the_client_meter() {
        let limits = RateLimits {
            per_client: Bucket::new(1, 3),
            per_session: None,
        };
        let (keeper, _) = metered_gatekeeper(limits, Duration::from_secs(10));
        let client = ip("10.0.0.1");
        assert!(
            keeper.admit_now(None, client).is_none(),
            "nothing metered yet"
        );
        let first = keeper.admit(None, client).await;
        assert!(matches!(first, Admission::Admitted(None)));
        for _ in 0..2 {
            let now = keeper.admit_now(None, client);
            assert!(matches!(now, Some(Admission::Admitted(None))));
        }
        assert!(
            keeper.admit_now(None, client).is_none(),
            "the local copy is spent: the store decides"
        );
        let refused = keeper.admit(None, client).await;
        assert!(matches!(
            refused,
            Admission::Limited {
                scope: "client",
                ..
            }
        ));
        let held = keeper.admit_now(None, client);
        assert!(
            matches!(
                held,
                Some(Admission::Limited {
                    scope: "client",
                    ..
                })
            ),
            "held off here until retry_after"
        );

        let (unmetered, _) = gatekeeper(limits);
        unmetered.admit(None, client).await;
        assert!(unmetered.admit_now(None, client).is_none(), "meter off");
        let (unlimited, _) = metered_gatekeeper(RateLimits::default(), Duration::ZERO);
        let free = unlimited.admit_now(None, client);
        assert!(matches!(free, Some(Admission::Admitted(None))), "no limit");
        let nameless = keeper.admit_now(None, None);
        assert!(
            matches!(nameless, Some(Admission::Admitted(None))),
            "no address"
        );
    }

    /// The gatekeeper as `wiring` builds it with the validation cache on.
    fn cached_gatekeeper(limits: RateLimits) -> (Gatekeeper, SessionAuth) {
        use polygate_session::validation_cache::{
            CachingVerifier, EvictingStore, MAX_ENTRIES, ValidationCache,
        };
        let cache = Arc::new(ValidationCache::new(Duration::from_secs(1), MAX_ENTRIES));
        let store = Arc::new(MemoryStore::new(SessionPolicy::default()));
        let auth = SessionAuth(Arc::new(EvictingStore::new(store, cache.clone())));
        let keeper = Gatekeeper {
            verifier: Arc::new(CachingVerifier::new(Arc::new(auth.clone()), cache)),
            limiter: Arc::new(auth.clone()),
            limits,
            client_meter: ClientMeter::new(Duration::from_secs(1), client_meter::MAX_ENTRIES),
        };
        (keeper, auth)
    }

    #[tokio::test]
    async fn a_session_beyond_its_burst_is_limited_even_from_new_addresses() {
        let limits = RateLimits {
            per_client: None,
            per_session: Bucket::new(1, 2),
        };
        for (keeper, auth) in [gatekeeper(limits), cached_gatekeeper(limits)] {
            session_is_limited_after_its_burst(keeper, auth).await;
        }
    }

    async fn session_is_limited_after_its_burst(keeper: Gatekeeper, auth: SessionAuth) {
        use polygate_kit::auth::SessionIssuer;
        let token = auth.issue("u1", false).await.unwrap().token;
        for address in ["10.0.0.1", "10.0.0.2"] {
            let admitted = keeper.admit(Some(token.clone()), ip(address)).await;
            assert!(matches!(admitted, Admission::Admitted(Some(ref v)) if v.user_id == "u1"));
        }
        let limited = keeper.admit(Some(token), ip("10.0.0.3")).await;
        assert!(matches!(
            limited,
            Admission::Limited {
                scope: "session",
                ..
            }
        ));
    }

    #[tokio::test]
    async fn admit_now_answers_only_what_the_cache_holds() {
        use polygate_kit::auth::SessionIssuer;
        let limits = RateLimits {
            per_client: None,
            per_session: Bucket::new(1, 2),
        };
        let (keeper, auth) = cached_gatekeeper(limits);
        let token = auth.issue("u1", false).await.unwrap().token;
        assert!(
            keeper.admit_now(Some(&token), None).is_none(),
            "nothing cached yet"
        );
        let first = keeper.admit(Some(token.clone()), None).await;
        assert!(matches!(first, Admission::Admitted(Some(_))));
        let second = keeper.admit_now(Some(&token), None);
        assert!(matches!(second, Some(Admission::Admitted(Some(_)))));
        let third = keeper.admit_now(Some(&token), None);
        assert!(matches!(
            third,
            Some(Admission::Limited {
                scope: "session",
                ..
            })
        ));

        let (uncached, auth) = gatekeeper(limits);
        let token = auth.issue("u2", false).await.unwrap().token;
        uncached.admit(Some(token.clone()), None).await;
        assert!(uncached.admit_now(Some(&token), None).is_none());
    }

    #[tokio::test]
    async fn with_the_cache_a_logged_out_token_is_anonymous_at_once() {
        use polygate_kit::auth::SessionIssuer;
        let limits = RateLimits {
            per_client: None,
            per_session: Bucket::new(20, 60),
        };
        let (keeper, auth) = cached_gatekeeper(limits);
        let token = auth.issue("u1", false).await.unwrap().token;
        let admitted = keeper.admit(Some(token.clone()), None).await;
        assert!(matches!(admitted, Admission::Admitted(Some(_))));
        assert!(auth.revoke_token(&token).await.unwrap());
        let after = keeper.admit(Some(token), None).await;
        assert!(matches!(after, Admission::Admitted(None)));
    }

    #[tokio::test]
    async fn signed_in_users_behind_one_address_are_not_limited_by_that_address() {
        use polygate_kit::auth::SessionIssuer;
        let limits = RateLimits {
            per_client: Bucket::new(1, 1),
            per_session: Bucket::new(1, 5),
        };
        let (keeper, auth) = gatekeeper(limits);
        for user in ["u1", "u2", "u3"] {
            let token = auth.issue(user, false).await.unwrap().token;
            for _ in 0..3 {
                let admitted = keeper.admit(Some(token.clone()), ip("10.0.0.9")).await;
                assert!(matches!(admitted, Admission::Admitted(Some(_))));
            }
        }
        let guessed = keeper.admit(Some("u1.0.bad".into()), ip("10.0.0.9")).await;
        assert!(
            matches!(guessed, Admission::Admitted(None)),
            "first anonymous request"
        );
        let again = keeper.admit(Some("u1.0.bad".into()), ip("10.0.0.9")).await;
        assert!(
            matches!(
                again,
                Admission::Limited {
                    scope: "client",
                    ..
                }
            ),
            "bad tokens are metered per address"
        );
    }
}
