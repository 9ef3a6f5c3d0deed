//! The behaviour every [`SessionStore`] adapter must show, as checks the adapters' integration
//! tests run (`tests/store_memory.rs`, `tests/store_redis.rs`, `tests/store_redis_cluster.rs`,
//! and `tests/store_redis_checked.rs` with every Redis script checked for undeclared keys and
//! run against a store clock hours away from the test's).
//!
//! Non-obvious decision: each check receives a factory rather than a store, because the expiry
//! checks need a store built with a second-scale [`SessionPolicy`]; and the
//! [`session_store_conformance!`](crate::session_store_conformance) macro turns the checks into
//! separate `#[tokio::test]`s so the sleeping ones run in parallel (the whole suite stays ~3 s).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::{
    MAX_ATTRIBUTE_NAME_LEN, MAX_ATTRIBUTE_VALUE_LEN, MAX_ATTRIBUTES, SECRET_LEN, SID_LEN,
    SessionPolicy, SessionStore, StoreError, is_valid_session_id, parse_session_id, parse_token,
};

/// Builds a fresh, empty store with the given policy.
pub type MakeStore =
    dyn Fn(SessionPolicy) -> BoxFuture<'static, Arc<dyn SessionStore>> + Send + Sync;

fn policy(idle_ms: u64, absolute_ms: u64) -> SessionPolicy {
    SessionPolicy {
        idle_timeout: Duration::from_millis(idle_ms),
        absolute_lifetime: Duration::from_millis(absolute_ms),
        ..SessionPolicy::default()
    }
}

fn capped(max_sessions_per_user: u32) -> SessionPolicy {
    SessionPolicy {
        max_sessions_per_user,
        ..SessionPolicy::default()
    }
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

pub async fn create_then_validate(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    let (token, created) = store.create("u.alice", false).await.unwrap();
    let parts = parse_token(&token).expect("a well-formed token");
    assert_eq!(parts.user_id, "u.alice");
    assert_eq!(parts.sid.len(), SID_LEN);
    assert_eq!(parts.secret.len(), SECRET_LEN);
    assert!(
        is_valid_session_id(&created.id),
        "session id {:?}",
        created.id
    );
    assert_eq!(created.id, format!("u.alice.{}", parts.sid));
    assert_eq!(
        token,
        format!("{}.{}", created.id, parts.secret),
        "the token routes itself"
    );
    assert_eq!(created.user_id, "u.alice");
    assert!(!created.staff);
    assert_eq!(created.created_at, created.last_seen_at);
    assert_eq!(created.expires_at, created.last_seen_at + 30 * 60);

    let seen = store
        .validate(&token)
        .await
        .unwrap()
        .expect("fresh token is valid");
    assert_eq!(seen.id, created.id);
    assert_eq!(seen.user_id, "u.alice");
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

/// Unknown and malformed tokens are refused; a wrong secret for a real session neither
/// validates nor harms it.
pub async fn wrong_or_malformed_tokens_are_refused(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    let (token, session) = store.create("u_w", false).await.unwrap();
    let parts = parse_token(&token).unwrap();
    let (_, other) = store.create("u_other", false).await.unwrap();
    let (_, other_sid) = parse_session_id(&other.id).unwrap();
    let wrong = [
        format!("{}.{}", session.id, "0".repeat(SECRET_LEN)),
        format!("u_w.{}.{}", "0".repeat(SID_LEN), parts.secret),
        format!("u_other.{other_sid}.{}", parts.secret),
        format!("u_nobody.{}.{}", parts.sid, parts.secret),
    ];
    let malformed = [
        String::new(),
        "abc".to_owned(),
        parts.secret.to_owned(),
        format!("{}.{}", parts.sid, parts.secret),
        token.to_uppercase(),
        format!("{token}0"),
        token[..token.len() - 1].to_owned(),
        format!("u}}{{.{}.{}", parts.sid, parts.secret),
        format!("u_w.{}.{}", parts.sid, "z".repeat(SECRET_LEN)),
    ];
    for bad in wrong.iter().chain(&malformed) {
        assert_eq!(store.validate(bad).await.unwrap(), None, "{bad:?}");
        assert!(!store.revoke_token(bad).await.unwrap(), "{bad:?}");
    }
    assert!(store.validate(&token).await.unwrap().is_some());
    let listed = store.sessions_of_users(&["u_other".into()]).await.unwrap();
    assert_eq!(
        listed["u_other"].len(),
        1,
        "the other user's session is intact"
    );
}

pub async fn revoke_ends_one_session(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    let (first_token, first) = store.create("u_r", false).await.unwrap();
    let (second_token, _) = store.create("u_r", false).await.unwrap();
    assert!(store.revoke(&first.id).await.unwrap());
    assert_eq!(store.validate(&first_token).await.unwrap(), None);
    assert!(store.validate(&second_token).await.unwrap().is_some());
    assert!(!store.revoke(&first.id).await.unwrap(), "already revoked");
    assert!(
        !store
            .revoke(&format!("u_r.{}", "f".repeat(SID_LEN)))
            .await
            .unwrap()
    );
    for malformed in ["", "u_r", &"f".repeat(SID_LEN), "u_r.F00", "u}{.0"] {
        assert!(!store.revoke(malformed).await.unwrap(), "{malformed:?}");
    }
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

/// The ids of a user's live sessions, read without touching them.
async fn listed_ids(store: &dyn SessionStore, user: &str) -> HashSet<String> {
    let listed = store.sessions_of_users(&[user.to_owned()]).await.unwrap();
    listed
        .get(user)
        .map(|s| s.iter().map(|s| s.id.clone()).collect())
        .unwrap_or_default()
}

/// A sign-in past the cap succeeds and ends the user's session that would expire soonest: the
/// least recently used, not merely the oldest. Other users keep theirs.
pub async fn a_sign_in_past_the_cap_ends_the_least_recently_used_session(make: &MakeStore) {
    let store = make(capped(3)).await;
    let (other_token, _) = store.create("u_cap_other", false).await.unwrap();
    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let (token, session) = store.create("u_cap", false).await.unwrap();
        tokens.push(token);
        ids.push(session.id);
        sleep_ms(5).await; // distinct milliseconds, so "least recently used" has one answer
    }
    assert!(store.validate(&tokens[0]).await.unwrap().is_some());
    sleep_ms(5).await;
    // Used order now: second (least recent), third, first.
    let (fourth_token, fourth) = store.create("u_cap", false).await.unwrap();
    assert_eq!(
        listed_ids(store.as_ref(), "u_cap").await,
        HashSet::from([ids[0].clone(), ids[2].clone(), fourth.id.clone()]),
        "the least recently used session made room"
    );
    assert_eq!(store.validate(&tokens[1]).await.unwrap(), None);
    assert!(!store.revoke(&ids[1]).await.unwrap(), "already ended");
    sleep_ms(5).await;
    let (_, fifth) = store.create("u_cap", false).await.unwrap();
    assert_eq!(
        listed_ids(store.as_ref(), "u_cap").await,
        HashSet::from([ids[0].clone(), fourth.id.clone(), fifth.id.clone()]),
        "then the third: created before the first was last used"
    );
    assert!(store.validate(&fourth_token).await.unwrap().is_some());
    assert!(store.validate(&other_token).await.unwrap().is_some());
    assert_eq!(listed_ids(store.as_ref(), "u_cap_other").await.len(), 1);
}

/// Revoked sessions free their place; with a cap of one, each sign-in ends the previous one.
pub async fn only_live_sessions_count_toward_the_cap(make: &MakeStore) {
    let store = make(capped(2)).await;
    let (_, first) = store.create("u_room", false).await.unwrap();
    let (second_token, second) = store.create("u_room", false).await.unwrap();
    assert!(store.revoke(&first.id).await.unwrap());
    let (third_token, third) = store.create("u_room", false).await.unwrap();
    assert_eq!(
        listed_ids(store.as_ref(), "u_room").await,
        HashSet::from([second.id.clone(), third.id.clone()])
    );
    assert!(store.validate(&second_token).await.unwrap().is_some());
    assert!(store.validate(&third_token).await.unwrap().is_some());

    let single = make(capped(1)).await;
    let (before, _) = single.create("u_single", false).await.unwrap();
    let (after, session) = single.create("u_single", true).await.unwrap();
    assert_eq!(single.validate(&before).await.unwrap(), None);
    let seen = single
        .validate(&after)
        .await
        .unwrap()
        .expect("the new one lives");
    assert_eq!(seen.id, session.id);
    assert_eq!(single.revoke_all("u_single").await.unwrap(), 1);
}

/// Sign-ins of one user racing each other past the cap never leave more than the cap, and every
/// token still valid is one of the listed sessions.
pub async fn racing_sign_ins_never_exceed_the_cap(make: &MakeStore) {
    let store = make(capped(3)).await;
    let sign_ins = (0..12).map(|_| store.create("u_race", false));
    let results = futures::future::join_all(sign_ins).await;
    let tokens: Vec<String> = results
        .into_iter()
        .filter_map(|r| r.ok().map(|(token, _)| token))
        .collect();
    assert!(
        tokens.len() >= 3,
        "most racing sign-ins succeed: {}",
        tokens.len()
    );
    let listed = listed_ids(store.as_ref(), "u_race").await;
    assert_eq!(listed.len(), 3, "{listed:?}");
    let mut valid = 0;
    for token in &tokens {
        if let Some(session) = store.validate(token).await.unwrap() {
            assert!(listed.contains(&session.id));
            valid += 1;
        }
    }
    assert_eq!(valid, 3);
}

/// Attributes are set, overwritten and removed one field at a time, belong to one session, and
/// survive the session being touched.
pub async fn attributes_are_set_and_removed_one_by_one(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    let (token, session) = store.create("u_attr", false).await.unwrap();
    let (_, sibling) = store.create("u_attr", false).await.unwrap();
    assert!(store.attributes(&session.id).await.unwrap().is_empty());
    assert!(
        store
            .set_attribute(&session.id, "cart", "c_1")
            .await
            .unwrap()
    );
    assert!(
        store
            .set_attribute(&session.id, "locale", "de-CH")
            .await
            .unwrap()
    );
    assert!(
        store
            .set_attribute(&session.id, "cart", "c_2")
            .await
            .unwrap()
    );
    assert!(
        store.validate(&token).await.unwrap().is_some(),
        "a touch keeps attributes"
    );
    let expected = HashMap::from([
        ("cart".to_owned(), "c_2".to_owned()),
        ("locale".to_owned(), "de-CH".to_owned()),
    ]);
    assert_eq!(store.attributes(&session.id).await.unwrap(), expected);
    assert!(store.attributes(&sibling.id).await.unwrap().is_empty());

    assert!(store.remove_attribute(&session.id, "locale").await.unwrap());
    assert!(!store.remove_attribute(&session.id, "locale").await.unwrap());
    assert!(!store.remove_attribute(&session.id, "never").await.unwrap());
    assert_eq!(
        store.attributes(&session.id).await.unwrap(),
        HashMap::from([("cart".to_owned(), "c_2".to_owned())])
    );
    let seen = store.validate(&token).await.unwrap().expect("still valid");
    assert_eq!(seen.id, session.id, "attributes never rewrite the session");
    assert!(!seen.staff);
}

/// Unknown, revoked and expired sessions take no attributes and show none.
pub async fn attributes_refuse_dead_sessions(make: &MakeStore) {
    let store = make(policy(800, 60_000)).await;
    let unknown = format!("u_dead.{}", "a".repeat(SID_LEN));
    assert!(!store.set_attribute(&unknown, "k", "v").await.unwrap());
    assert!(!store.remove_attribute(&unknown, "k").await.unwrap());
    assert!(store.attributes(&unknown).await.unwrap().is_empty());
    assert!(!store.set_attribute("malformed", "k", "v").await.unwrap());

    let (_, revoked) = store.create("u_dead", false).await.unwrap();
    assert!(store.set_attribute(&revoked.id, "k", "v").await.unwrap());
    assert!(store.revoke(&revoked.id).await.unwrap());
    assert!(!store.set_attribute(&revoked.id, "k", "v").await.unwrap());
    assert!(store.attributes(&revoked.id).await.unwrap().is_empty());

    let (_, idle) = store.create("u_dead", false).await.unwrap();
    assert!(store.set_attribute(&idle.id, "k", "v").await.unwrap());
    sleep_ms(1_000).await;
    assert!(!store.set_attribute(&idle.id, "k", "w").await.unwrap());
    assert!(!store.remove_attribute(&idle.id, "k").await.unwrap());
    assert!(store.attributes(&idle.id).await.unwrap().is_empty());
    let listed = store.sessions_of_users(&["u_dead".into()]).await.unwrap();
    assert!(listed.get("u_dead").is_none_or(Vec::is_empty));
}

/// Names, values and the number of attributes are bounded.
pub async fn attributes_are_bounded(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    let (_, session) = store.create("u_bounds", false).await.unwrap();
    let id = session.id.as_str();
    let long_name = "n".repeat(MAX_ATTRIBUTE_NAME_LEN + 1);
    for name in ["", "a b", "a{b}", "ü", long_name.as_str()] {
        let result = store.set_attribute(id, name, "v").await;
        assert!(
            matches!(result, Err(StoreError::InvalidInput(_))),
            "{name:?}"
        );
        let result = store.remove_attribute(id, name).await;
        assert!(
            matches!(result, Err(StoreError::InvalidInput(_))),
            "{name:?}"
        );
    }
    let max_name = "n".repeat(MAX_ATTRIBUTE_NAME_LEN);
    let max_value = "v".repeat(MAX_ATTRIBUTE_VALUE_LEN);
    assert!(
        store
            .set_attribute(id, &max_name, &max_value)
            .await
            .unwrap()
    );
    let too_long = format!("{max_value}v");
    let result = store.set_attribute(id, "k", &too_long).await;
    assert!(matches!(result, Err(StoreError::InvalidInput(_))));

    for i in 1..MAX_ATTRIBUTES {
        assert!(
            store
                .set_attribute(id, &format!("k{i}"), "v")
                .await
                .unwrap()
        );
    }
    let result = store.set_attribute(id, "one_more", "v").await;
    assert!(
        matches!(result, Err(StoreError::InvalidInput(_))),
        "{result:?}"
    );
    assert!(
        store.set_attribute(id, "k1", "overwrite").await.unwrap(),
        "updates still fit"
    );
    assert_eq!(store.attributes(id).await.unwrap().len(), MAX_ATTRIBUTES);
}

/// A bucket lets `capacity` requests through at once, then one per `1 / refill` seconds; buckets
/// are independent.
pub async fn rate_limit_is_a_token_bucket(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    for _ in 0..3 {
        let decision = store.rate_limit("ip:192.0.2.1", 3, 1.0, 1).await.unwrap();
        assert!(decision.allowed);
        assert_eq!(decision.retry_after_ms, 0);
    }
    let denied = store.rate_limit("ip:192.0.2.1", 3, 1.0, 1).await.unwrap();
    assert!(!denied.allowed);
    assert!(
        (900..=1_000).contains(&denied.retry_after_ms),
        "one token per second: {denied:?}"
    );
    let other = store.rate_limit("ip:2001:db8::1", 3, 1.0, 1).await.unwrap();
    assert!(other.allowed, "another key has its own bucket");

    for (key, capacity, refill) in [("", 1, 1.0), ("a{b}", 1, 1.0), ("k", 0, 1.0), ("k", 1, 0.0)] {
        let result = store.rate_limit(key, capacity, refill, 1).await;
        assert!(
            matches!(result, Err(StoreError::InvalidInput(_))),
            "{key:?}"
        );
    }
}

pub async fn rate_limit_refills_over_time(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    let key = "session:u_rl.0";
    assert!(store.rate_limit(key, 2, 20.0, 1).await.unwrap().allowed);
    assert!(store.rate_limit(key, 2, 20.0, 1).await.unwrap().allowed);
    let denied = store.rate_limit(key, 2, 20.0, 1).await.unwrap();
    assert!(!denied.allowed);
    assert!((1..=50).contains(&denied.retry_after_ms), "{denied:?}");
    sleep_ms(250).await; // 5 tokens' worth, capped at the capacity of 2
    assert!(store.rate_limit(key, 2, 20.0, 1).await.unwrap().allowed);
    assert!(store.rate_limit(key, 2, 20.0, 1).await.unwrap().allowed);
    assert!(!store.rate_limit(key, 2, 20.0, 1).await.unwrap().allowed);
}

pub async fn validate_metered_validates_touches_and_meters_each_session(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    let (token, created) = store.create("u_meter", true).await.unwrap();
    let (other, _) = store.create("u_meter", true).await.unwrap();
    sleep_ms(20).await;
    for _ in 0..2 {
        let (session, decision) = store
            .validate_metered(&token, 2, 1.0, 1)
            .await
            .unwrap()
            .expect("a live session validates");
        assert_eq!(session.id, created.id);
        assert!(session.staff);
        assert!(decision.allowed);
    }
    let (session, denied) = store
        .validate_metered(&token, 2, 1.0, 1)
        .await
        .unwrap()
        .expect("still a live session");
    assert!(!denied.allowed);
    assert!((900..=1_000).contains(&denied.retry_after_ms), "{denied:?}");
    assert!(
        session.last_seen_at >= created.last_seen_at,
        "validation touched it"
    );
    let (_, fresh) = store
        .validate_metered(&other, 2, 1.0, 1)
        .await
        .unwrap()
        .unwrap();
    assert!(fresh.allowed, "each session has its own bucket");

    // The real token with its last hex digit changed: same session, wrong secret.
    let last = if token.ends_with('0') { '1' } else { '0' };
    let guessed = format!("{}{last}", &token[..token.len() - 1]);
    assert!(
        store
            .validate_metered(&guessed, 2, 1.0, 1)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .validate_metered("junk", 2, 1.0, 1)
            .await
            .unwrap()
            .is_none()
    );
    store.revoke(&created.id).await.unwrap();
    assert!(
        store
            .validate_metered(&token, 2, 1.0, 1)
            .await
            .unwrap()
            .is_none()
    );
}

/// A metered validation of cost n takes n tokens (a gateway bills the requests it admitted from
/// its cache); one the bucket cannot cover is refused but still charges the n - 1 earlier
/// requests, into debt no deeper than the capacity, and the refusal waits out the debt.
pub async fn validate_metered_takes_cost_tokens(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    let (token, _) = store.create("u_cost", false).await.unwrap();
    let meter = |cost| store.validate_metered(&token, 5, 1.0, cost);
    let (_, three) = meter(3).await.unwrap().expect("live");
    assert!(three.allowed);
    assert_eq!(three.remaining, 2, "5 - 3: {three:?}");
    let (_, two) = meter(2).await.unwrap().expect("live");
    assert!(two.allowed);
    assert_eq!(two.remaining, 0, "{two:?}");
    let (_, empty) = meter(1).await.unwrap().expect("live");
    assert!(!empty.allowed);
    assert_eq!(empty.remaining, 0);
    assert!((900..=1_000).contains(&empty.retry_after_ms), "{empty:?}");

    let (debtor, _) = store.create("u_cost", false).await.unwrap();
    // 2 tokens, cost 5: refused, and the 4 earlier requests leave the bucket at -2, so the next
    // token is 3 s away.
    let (_, refused) = store
        .validate_metered(&debtor, 2, 1.0, 5)
        .await
        .unwrap()
        .expect("live");
    assert!(!refused.allowed);
    assert!(
        (2_900..=3_000).contains(&refused.retry_after_ms),
        "{refused:?}"
    );
    let (_, still) = store
        .validate_metered(&debtor, 2, 1.0, 1)
        .await
        .unwrap()
        .expect("live");
    assert!(!still.allowed, "a refusal takes nothing: {still:?}");
    assert!((2_800..=3_000).contains(&still.retry_after_ms), "{still:?}");
    let (deepest, _) = store.create("u_cost", false).await.unwrap();
    let (_, capped) = store
        .validate_metered(&deepest, 2, 1.0, 1_000)
        .await
        .unwrap()
        .expect("live");
    assert!(
        (2_900..=3_000).contains(&capped.retry_after_ms),
        "debt stops at -capacity: {capped:?}"
    );
    let zero = store.validate_metered(&deepest, 2, 1.0, 0).await;
    assert!(matches!(zero, Err(StoreError::InvalidInput(_))), "{zero:?}");
}

/// A plain bucket call of cost n takes n tokens (a gateway bills the requests it admitted from
/// its local copy of a client address's bucket), with the arithmetic of
/// [`validate_metered_takes_cost_tokens`]: one the bucket cannot cover is refused but still
/// charges the n - 1 earlier requests, into debt no deeper than the capacity.
pub async fn rate_limit_takes_cost_tokens(make: &MakeStore) {
    let store = make(SessionPolicy::default()).await;
    let take = |key: &'static str, capacity, cost| store.rate_limit(key, capacity, 1.0, cost);
    let three = take("client:192.0.2.10", 5, 3).await.unwrap();
    assert!(three.allowed);
    assert_eq!(three.remaining, 2, "5 - 3: {three:?}");
    let two = take("client:192.0.2.10", 5, 2).await.unwrap();
    assert!(two.allowed);
    assert_eq!(two.remaining, 0, "{two:?}");
    let empty = take("client:192.0.2.10", 5, 1).await.unwrap();
    assert!(!empty.allowed);
    assert_eq!(empty.remaining, 0);
    assert!((900..=1_000).contains(&empty.retry_after_ms), "{empty:?}");

    // 2 tokens, cost 5: refused, and the 4 earlier requests leave the bucket at -2, so the next
    // token is 3 s away.
    let refused = take("client:192.0.2.11", 2, 5).await.unwrap();
    assert!(!refused.allowed);
    assert!(
        (2_900..=3_000).contains(&refused.retry_after_ms),
        "{refused:?}"
    );
    let still = take("client:192.0.2.11", 2, 1).await.unwrap();
    assert!(!still.allowed, "a refusal takes nothing: {still:?}");
    assert!((2_800..=3_000).contains(&still.retry_after_ms), "{still:?}");
    let capped = take("client:192.0.2.12", 2, 1_000).await.unwrap();
    assert!(
        (2_900..=3_000).contains(&capped.retry_after_ms),
        "debt stops at -capacity: {capped:?}"
    );
    let zero = take("client:192.0.2.12", 2, 0).await;
    assert!(matches!(zero, Err(StoreError::InvalidInput(_))), "{zero:?}");
}

/// Creates a session with an attribute and returns its clear token, for
/// [`assert_token_not_stored`].
pub async fn create_for_dump(store: &dyn SessionStore) -> String {
    let (token, session) = store.create("u_dump", false).await.unwrap();
    store
        .set_attribute(&session.id, "cart", "c_9")
        .await
        .unwrap();
    token
}

/// Passes when nothing the store holds contains the token's secret, while the secret's hash is
/// there (which proves the dump saw the session at all).
pub fn assert_token_not_stored(token: &str, dump: &[String]) {
    let secret = parse_token(token).expect("well-formed token").secret;
    let hash = super::secret_hash(secret);
    assert!(
        dump.iter().any(|s| s.contains(&hash)),
        "dump misses the session: {dump:?}"
    );
    for s in dump {
        assert!(!s.contains(secret), "clear secret stored in {s:?}");
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
            a_sign_in_past_the_cap_ends_the_least_recently_used_session,
            only_live_sessions_count_toward_the_cap,
            racing_sign_ins_never_exceed_the_cap,
            attributes_are_set_and_removed_one_by_one,
            attributes_refuse_dead_sessions,
            attributes_are_bounded,
            rate_limit_is_a_token_bucket,
            rate_limit_refills_over_time,
            validate_metered_validates_touches_and_meters_each_session,
            validate_metered_takes_cost_tokens,
            rate_limit_takes_cost_tokens,
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
