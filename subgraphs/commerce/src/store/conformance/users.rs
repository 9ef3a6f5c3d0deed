//! Users: sign-up, lookups by email and id, and paging through all users.

use std::collections::HashSet;

use polygate_kit::testing::unique_name;

use super::{FAKE_HASH, create_user, new_user};
use crate::domain::Email;
use crate::ids::UserId;
use crate::store::{CommerceStore, StoreError};

/// A created user is found again by email, whatever the casing asked for.
pub async fn create_then_find_by_email(store: &dyn CommerceStore) {
    let mut new = new_user("find");
    new.staff = true;
    let created = store.create_user(new.clone()).await.expect("create_user");
    assert_eq!(created.id, new.id);
    assert_eq!(created.email, new.email);
    assert!(created.staff);

    let shouted = Email::parse(&new.email.as_str().to_uppercase()).unwrap();
    let found = store
        .user_by_email(&shouted)
        .await
        .unwrap()
        .expect("user found");
    assert_eq!(found.user, created);
    assert_eq!(found.password_hash.as_str(), FAKE_HASH);

    let missing = Email::parse(&format!("{}@example.com", unique_name("nobody"))).unwrap();
    assert!(store.user_by_email(&missing).await.unwrap().is_none());
}

/// A second user with the same email (any casing) is a `Conflict` and is not stored.
pub async fn duplicate_email_is_a_conflict(store: &dyn CommerceStore) {
    let first = create_user(store, "dup").await;
    let mut again = new_user("dup");
    again.email = first.email.clone();
    let err = store.create_user(again.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "got {err:?}");
    assert!(store.users_by_ids(&[again.id]).await.unwrap().is_empty());
}

/// `users_by_ids` returns exactly the users asked for that exist, in any order.
pub async fn users_by_ids_returns_exactly_the_asked_users(store: &dyn CommerceStore) {
    let mut users = Vec::new();
    for _ in 0..4 {
        users.push(create_user(store, "ids").await);
    }
    let unknown = UserId::new(0);
    let asked = [users[3].id, unknown, users[0].id, users[2].id, users[0].id];
    let found = store.users_by_ids(&asked).await.unwrap();
    let found_ids: HashSet<UserId> = found.iter().map(|u| u.id).collect();
    assert_eq!(found.len(), 3, "each existing user once: {found:?}");
    assert_eq!(
        found_ids,
        HashSet::from([users[0].id, users[2].id, users[3].id])
    );
    for user in &found {
        assert!(users.contains(user), "{user:?} comes back unchanged");
    }
    assert!(store.users_by_ids(&[]).await.unwrap().is_empty());
    assert!(store.users_by_ids(&[unknown]).await.unwrap().is_empty());
}

/// `users_by_emails` returns exactly the users whose emails were asked, in any order, whatever
/// the case the email was asked in.
pub async fn users_by_emails_returns_exactly_the_asked_users(store: &dyn CommerceStore) {
    let mut users = Vec::new();
    for _ in 0..3 {
        users.push(create_user(store, "emails").await);
    }
    let unknown = Email::parse("nobody-ever@example.com").unwrap();
    let shouted = Email::parse(&users[2].email.as_str().to_uppercase()).unwrap();
    let asked = [
        users[0].email.clone(),
        unknown.clone(),
        shouted,
        users[0].email.clone(),
    ];
    let found = store.users_by_emails(&asked).await.unwrap();
    let found_ids: HashSet<UserId> = found.iter().map(|u| u.id).collect();
    assert_eq!(found.len(), 2, "each existing user once: {found:?}");
    assert_eq!(found_ids, HashSet::from([users[0].id, users[2].id]));
    for user in &found {
        assert!(users.contains(user), "{user:?} comes back unchanged");
    }
    assert!(store.users_by_emails(&[]).await.unwrap().is_empty());
    assert!(store.users_by_emails(&[unknown]).await.unwrap().is_empty());
}

/// Walking `list_users` page by page visits every user once, in id order.
pub async fn list_users_pages_without_gaps_or_duplicates(store: &dyn CommerceStore) {
    let mut created = HashSet::new();
    for _ in 0..7 {
        created.insert(create_user(store, "page").await.id);
    }
    let everyone: Vec<UserId> = store
        .list_users(10_000, None)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();

    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_users(3, after).await.unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        walked.extend(page.iter().map(|u| u.id));
    }
    assert!(walked.len() > 3, "more than one page");
    assert!(
        walked.windows(2).all(|w| w[0] < w[1]),
        "strictly increasing ids"
    );
    assert_eq!(walked, everyone, "no gaps, no duplicates");
    assert!(created.iter().all(|id| walked.contains(id)));
}

/// A reachable store answers a ping.
pub async fn ping_succeeds(store: &dyn CommerceStore) {
    store.ping().await.expect("ping");
    assert!(matches!(store.engine(), "postgres" | "sqlite"));
}
