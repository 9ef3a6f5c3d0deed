//! The behaviour every [`SessionStore`] adapter must show, as checks the adapters' integration
//! tests run (`tests/store_memory.rs`, `tests/store_redis.rs`).
//!
//! Non-obvious decision: each check receives a factory rather than a store, because the expiry
//! checks need a store built with a second-scale [`SessionPolicy`]; and the
//! [`session_store_conformance!`](crate::session_store_conformance) macro turns the checks into
//! separate `#[tokio::test]`s so the sleeping ones run in parallel (the whole suite stays ~3 s).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::{SESSION_ID_LEN, SessionPolicy, SessionStore, TOKEN_LEN, is_valid_session_id};

/// Builds a fresh, empty store with the given policy.
pub type MakeStore =
    dyn Fn(SessionPolicy) -> BoxFuture<'static, Arc<dyn SessionStore>> + Send + Sync;

fn policy(idle_ms: u64, absolute_ms: u64) -> SessionPolicy {
    SessionPolicy {
        idle_timeout: Duration::from_millis(idle_ms),
        absolute_lifetime: Duration::from_millis(absolute_ms),
    }
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

pub async fn create_then_validate(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    let (token, created) = store.create("u_alice", false).await.unwrap();
    assert_eq!(token.len(), TOKEN_LEN);
    assert!(
        is_valid_session_id(&created.id),
        "session id {:?}",
        created.id
    );
    assert_eq!(created.id.len(), SESSION_ID_LEN);
    assert!(
        !token.contains(&created.id),
        "the session id is not part of the token"
    );
    assert_eq!(created.user_id, "u_alice");
    assert!(!created.staff);
    assert_eq!(created.created_at, created.last_seen_at);
    assert_eq!(created.expires_at, created.last_seen_at + 30 * 60);

    let seen = store
        .validate(&token)
        .await
        .unwrap()
        .expect("fresh token is valid");
    assert_eq!(seen.id, created.id);
    assert_eq!(seen.user_id, "u_alice");
    assert!(!seen.staff);
    assert_eq!(seen.created_at, created.created_at);

    let (staff_token, _) = store.create("u_root", true).await.unwrap();
    let staff = store.validate(&staff_token).await.unwrap().unwrap();
    assert!(staff.staff);
    assert_ne!(staff_token, token);
}

/// Validation moves `last_seen_at` and slides `expires_at`, keeping a used session alive past
/// its idle timeout.
pub async fn validate_touches_the_session(make: &MakeStore) {
    let store = make(policy(1_500, 60_000)).await;
    let (token, created) = store.create("u_t", false).await.unwrap();
    sleep_ms(1_050).await;
    let touched = store
        .validate(&token)
        .await
        .unwrap()
        .expect("still idle-valid");
    assert!(touched.last_seen_at > created.last_seen_at);
    assert!(touched.expires_at > created.expires_at);
    assert_eq!(touched.created_at, created.created_at);
    sleep_ms(1_050).await; // 2.1 s after creation, 1.05 s after the touch
    assert!(store.validate(&token).await.unwrap().is_some());
}

pub async fn idle_session_expires(make: &MakeStore) {
    let store = make(policy(1_000, 60_000)).await;
    let (token, _) = store.create("u_idle", false).await.unwrap();
    sleep_ms(1_200).await;
    assert_eq!(store.validate(&token).await.unwrap(), None);
    let listed = store.sessions_of_users(&["u_idle".into()]).await.unwrap();
    assert!(listed.get("u_idle").is_none_or(Vec::is_empty));
}

/// However often a session is used, it dies at `created + absolute_lifetime`.
pub async fn absolute_lifetime_caps_the_session(make: &MakeStore) {
    let store = make(policy(1_000, 2_000)).await;
    let (token, created) = store.create("u_abs", false).await.unwrap();
    for _ in 0..3 {
        sleep_ms(600).await;
        let seen = store
            .validate(&token)
            .await
            .unwrap()
            .expect("within both limits");
        assert!(seen.expires_at <= created.created_at + 2);
    }
    sleep_ms(400).await; // 2.2 s after creation, 0.4 s after the last touch
    assert_eq!(store.validate(&token).await.unwrap(), None);
}

pub async fn wrong_or_malformed_tokens_are_refused(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    let (token, _) = store.create("u_w", false).await.unwrap();
    let unknown = "0".repeat(TOKEN_LEN);
    let malformed = [
        String::new(),
        "abc".to_owned(),
        "z".repeat(TOKEN_LEN),
        token.to_uppercase(),
        format!("{token}0"),
        token[1..].to_owned(),
    ];
    assert_eq!(store.validate(&unknown).await.unwrap(), None);
    for bad in &malformed {
        assert_eq!(store.validate(bad).await.unwrap(), None, "{bad:?}");
        assert!(!store.revoke_token(bad).await.unwrap(), "{bad:?}");
    }
    assert!(store.validate(&token).await.unwrap().is_some());
}

pub async fn revoke_ends_one_session(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    let (first_token, first) = store.create("u_r", false).await.unwrap();
    let (second_token, _) = store.create("u_r", false).await.unwrap();
    assert!(store.revoke(&first.id).await.unwrap());
    assert_eq!(store.validate(&first_token).await.unwrap(), None);
    assert!(store.validate(&second_token).await.unwrap().is_some());
    assert!(!store.revoke(&first.id).await.unwrap(), "already revoked");
    assert!(!store.revoke(&"f".repeat(SESSION_ID_LEN)).await.unwrap());
}

pub async fn revoke_token_ends_its_session(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    let (token, session) = store.create("u_rt", false).await.unwrap();
    assert!(store.revoke_token(&token).await.unwrap());
    assert_eq!(store.validate(&token).await.unwrap(), None);
    assert!(!store.revoke_token(&token).await.unwrap());
    assert!(!store.revoke(&session.id).await.unwrap());
    let listed = store.sessions_of_users(&["u_rt".into()]).await.unwrap();
    assert!(listed.get("u_rt").is_none_or(Vec::is_empty));
}

pub async fn revoke_all_only_affects_that_user(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    let (a1, _) = store.create("u_a", false).await.unwrap();
    let (a2, _) = store.create("u_a", false).await.unwrap();
    let (b1, _) = store.create("u_b", false).await.unwrap();
    assert_eq!(store.revoke_all("u_a").await.unwrap(), 2);
    assert_eq!(store.validate(&a1).await.unwrap(), None);
    assert_eq!(store.validate(&a2).await.unwrap(), None);
    assert!(store.validate(&b1).await.unwrap().is_some());
    assert_eq!(store.revoke_all("u_a").await.unwrap(), 0);
    assert_eq!(store.revoke_all("u_nobody").await.unwrap(), 0);
}

pub async fn sessions_of_users_lists_each_users_live_sessions(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    let (_, one) = store.create("u_1", false).await.unwrap();
    let (_, two) = store.create("u_1", false).await.unwrap();
    let (_, three) = store.create("u_2", true).await.unwrap();
    let users = ["u_1", "u_2", "u_none"].map(String::from);
    let listed = store.sessions_of_users(&users).await.unwrap();

    let ids = |user: &str| -> HashSet<String> {
        listed
            .get(user)
            .map(|s| s.iter().map(|s| s.id.clone()).collect())
            .unwrap_or_default()
    };
    assert_eq!(ids("u_1"), HashSet::from([one.id.clone(), two.id.clone()]));
    assert_eq!(ids("u_2"), HashSet::from([three.id.clone()]));
    assert!(ids("u_none").is_empty());
    let listed_three = &listed["u_2"][0];
    assert_eq!(listed_three, &three);
    assert!(store.sessions_of_users(&[]).await.unwrap().is_empty());
}

/// Creates a session and returns its clear token, for [`assert_token_not_stored`].
pub async fn create_for_dump(store: &dyn SessionStore) -> String {
    store.create("u_dump", false).await.unwrap().0
}

/// Passes when nothing the store holds contains the clear token, while its hash is there (which
/// proves the dump saw the session at all).
pub fn assert_token_not_stored(token: &str, dump: &[String]) {
    let hash = super::token_hash(token).expect("well-formed token");
    assert!(
        dump.iter().any(|s| s.contains(&hash)),
        "dump misses the session: {dump:?}"
    );
    for s in dump {
        assert!(!s.contains(token), "clear token stored in {s:?}");
    }
}

/// Expands to one `#[tokio::test]` per conformance check. `$make` is an expression of type
/// `Option<F>` with `F: Fn(SessionPolicy) -> BoxFuture<'static, Arc<dyn SessionStore>>`;
/// `None` skips every test (the store's server is not configured).
#[macro_export]
macro_rules! session_store_conformance {
    ($make:expr) => {
        $crate::session_store_conformance!(@each $make;
            create_then_validate,
            validate_touches_the_session,
            idle_session_expires,
            absolute_lifetime_caps_the_session,
            wrong_or_malformed_tokens_are_refused,
            revoke_ends_one_session,
            revoke_token_ends_its_session,
            revoke_all_only_affects_that_user,
            sessions_of_users_lists_each_users_live_sessions,
        );
    };
    (@each $make:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                if let Some(make) = $make {
                    $crate::store::conformance::$check(&make).await;
                }
            }
        )*
    };
}
