//! The subgraph's GraphQL API executed directly on the schema (no HTTP), over the memory store.
//!
//! Tests hold one lock while they run: the batching test reads a process-wide metric, which a
//! concurrent test's store calls would disturb.

use std::sync::Arc;

use async_graphql::{Request, Response, Variables};
use polygate_kit::Viewer;
use polygate_kit::metrics::store_calls;
use polygate_session::store::MemoryStore;
use polygate_session::{Session, SessionPolicy, SessionSchema, SessionStore};
use serde_json::{Value, json};
use tokio::sync::{Mutex, MutexGuard};

static SERIAL: Mutex<()> = Mutex::const_new(());

struct Fixture {
    store: Arc<dyn SessionStore>,
    schema: SessionSchema,
    _serial: MutexGuard<'static, ()>,
}

async fn fixture() -> Fixture {
    let serial = SERIAL.lock().await;
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new(SessionPolicy::default()));
    Fixture {
        schema: polygate_session::schema(store.clone()),
        store,
        _serial: serial,
    }
}

impl Fixture {
    async fn sign_in(&self, user_id: &str, staff: bool) -> (Session, Viewer) {
        let (_, session) = self.store.create(user_id, staff).await.unwrap();
        let viewer = Viewer {
            user_id: user_id.to_owned(),
            session_id: session.id.clone(),
            staff,
        };
        (session, viewer)
    }

    async fn run(&self, query: &str, variables: Value, viewer: Option<&Viewer>) -> Response {
        let mut request = Request::new(query).variables(Variables::from_json(variables));
        if let Some(viewer) = viewer {
            request = request.data(viewer.clone());
        }
        self.schema.execute(request).await
    }
}

fn error_code(response: &Response) -> Option<String> {
    let error = response.errors.first()?;
    match error.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => Some(code.clone()),
        _ => None,
    }
}

fn data(response: &Response) -> Value {
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    response.data.clone().into_json().unwrap()
}

const MY_SESSIONS: &str = "{ mySessions { id createdAt lastSeenAt expiresAt current } }";
const ENTITIES: &str = r#"query($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on User { id sessions { id current } } }
}"#;

fn user_reps(ids: &[&str]) -> Value {
    json!({ "reps": ids.iter().map(|id| json!({"__typename": "User", "id": id})).collect::<Vec<_>>() })
}

#[tokio::test]
async fn my_sessions_without_a_viewer_is_unauthenticated() {
    let f = fixture().await;
    let response = f.run(MY_SESSIONS, json!({}), None).await;
    assert_eq!(error_code(&response).as_deref(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn my_sessions_lists_only_the_viewers_sessions_and_marks_the_current_one() {
    let f = fixture().await;
    let (current, viewer) = f.sign_in("u_me", false).await;
    let (other, _) = f.sign_in("u_me", false).await;
    f.sign_in("u_someone", false).await;

    let sessions = data(&f.run(MY_SESSIONS, json!({}), Some(&viewer)).await)["mySessions"].clone();
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    for s in sessions {
        let is_current = s["id"] == current.id;
        assert!(is_current || s["id"] == other.id, "{s}");
        assert_eq!(s["current"], is_current);
        assert_eq!(s["expiresAt"], current.expires_at);
        assert!(s.get("token").is_none());
    }
}

#[tokio::test]
async fn n_user_entities_cost_one_store_call() {
    let f = fixture().await;
    let users = ["u_1", "u_2", "u_3", "u_4", "u_5"];
    for user in &users[..4] {
        f.sign_in(user, false).await;
    }
    let (_, staff) = f.sign_in("u_staff", true).await;

    let before = store_calls("session", "sessions_of_users");
    let response = f.run(ENTITIES, user_reps(&users), Some(&staff)).await;
    let after = store_calls("session", "sessions_of_users");

    let entities = data(&response)["_entities"].clone();
    let counts: Vec<usize> = entities
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["sessions"].as_array().unwrap().len())
        .collect();
    assert_eq!(counts, [1, 1, 1, 1, 0]);
    assert_eq!(
        after - before,
        1,
        "one batched store call for {} users",
        users.len()
    );
}

#[tokio::test]
async fn another_users_sessions_are_forbidden_unless_staff() {
    let f = fixture().await;
    let (_, me) = f.sign_in("u_me", false).await;
    f.sign_in("u_other", false).await;
    let (_, staff) = f.sign_in("u_staff", true).await;

    let mine = f.run(ENTITIES, user_reps(&["u_me"]), Some(&me)).await;
    assert_eq!(data(&mine)["_entities"][0]["sessions"][0]["current"], true);

    let theirs = f.run(ENTITIES, user_reps(&["u_other"]), Some(&me)).await;
    assert_eq!(error_code(&theirs).as_deref(), Some("FORBIDDEN"));

    let as_staff = f.run(ENTITIES, user_reps(&["u_other"]), Some(&staff)).await;
    assert_eq!(
        data(&as_staff)["_entities"][0]["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let anonymous = f.run(ENTITIES, user_reps(&["u_other"]), None).await;
    assert_eq!(error_code(&anonymous).as_deref(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn a_malformed_user_representation_is_bad_input() {
    let f = fixture().await;
    let (_, staff) = f.sign_in("u_staff", true).await;
    let response = f.run(ENTITIES, user_reps(&["u}{bad"]), Some(&staff)).await;
    assert_eq!(error_code(&response).as_deref(), Some("BAD_USER_INPUT"));
}

const REVOKE: &str = "mutation($id: ID!) { revokeSession(id: $id) }";

#[tokio::test]
async fn revoking_someone_elses_session_is_not_found_but_staff_may() {
    let f = fixture().await;
    let (_, me) = f.sign_in("u_me", false).await;
    let (theirs, _) = f.sign_in("u_other", false).await;
    let (_, staff) = f.sign_in("u_staff", true).await;

    let attempt = f.run(REVOKE, json!({"id": theirs.id}), Some(&me)).await;
    assert_eq!(error_code(&attempt).as_deref(), Some("NOT_FOUND"));
    assert_eq!(
        f.store
            .sessions_of_users(&["u_other".into()])
            .await
            .unwrap()["u_other"]
            .len(),
        1
    );

    let by_staff = f.run(REVOKE, json!({"id": theirs.id}), Some(&staff)).await;
    assert_eq!(data(&by_staff)["revokeSession"], true);
    let again = f.run(REVOKE, json!({"id": theirs.id}), Some(&staff)).await;
    assert_eq!(error_code(&again).as_deref(), Some("NOT_FOUND"));
}

#[tokio::test]
async fn a_viewer_revokes_their_own_session() {
    let f = fixture().await;
    let (_, me) = f.sign_in("u_me", false).await;
    let (laptop, _) = f.sign_in("u_me", false).await;
    let response = f.run(REVOKE, json!({"id": laptop.id}), Some(&me)).await;
    assert_eq!(data(&response)["revokeSession"], true);
    let left = data(&f.run(MY_SESSIONS, json!({}), Some(&me)).await)["mySessions"].clone();
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["current"], true);
}

#[tokio::test]
async fn a_malformed_session_id_is_bad_input() {
    let f = fixture().await;
    let (_, me) = f.sign_in("u_me", false).await;
    for id in ["nope", "../../etc", &"A".repeat(32)] {
        let response = f.run(REVOKE, json!({"id": id}), Some(&me)).await;
        assert_eq!(
            error_code(&response).as_deref(),
            Some("BAD_USER_INPUT"),
            "{id}"
        );
    }
}

#[tokio::test]
async fn revoke_all_sessions_ends_only_the_viewers() {
    let f = fixture().await;
    let (_, me) = f.sign_in("u_me", false).await;
    f.sign_in("u_me", false).await;
    f.sign_in("u_other", false).await;
    let response = f
        .run("mutation { revokeAllSessions }", json!({}), Some(&me))
        .await;
    assert_eq!(data(&response)["revokeAllSessions"], 2);
    let other = f
        .store
        .sessions_of_users(&["u_other".into()])
        .await
        .unwrap();
    assert_eq!(other["u_other"].len(), 1);
    let anonymous = f
        .run("mutation { revokeAllSessions }", json!({}), None)
        .await;
    assert_eq!(error_code(&anonymous).as_deref(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn the_sdl_extends_user_and_never_exposes_tokens() {
    let f = fixture().await;
    let sdl = f
        .schema
        .sdl_with_options(async_graphql::SDLExportOptions::new().federation());
    assert!(sdl.contains(r#"type User @key(fields: "id")"#), "{sdl}");
    assert!(!sdl.to_lowercase().contains("token"), "{sdl}");
}

const SESSION_ENTITY: &str = r#"query($reps: [_Any!]!) {
    _entities(representations: $reps) { ... on Session { id current user { id } } }
}"#;

#[tokio::test]
async fn a_session_entity_resolves_for_its_owner_and_staff_only() {
    let f = fixture().await;
    let (session, owner) = f.sign_in("u_owner", false).await;
    let (_, stranger) = f.sign_in("u_stranger", false).await;
    let (_, staff) = f.sign_in("u_staff", true).await;
    let reps = json!({ "reps": [{ "__typename": "Session", "id": session.id }] });

    let mine = f.run(SESSION_ENTITY, reps.clone(), Some(&owner)).await;
    assert!(mine.errors.is_empty(), "{:?}", mine.errors);
    let data = mine.data.into_json().unwrap();
    assert_eq!(data["_entities"][0]["id"], json!(session.id));
    assert_eq!(data["_entities"][0]["current"], json!(true));
    assert_eq!(data["_entities"][0]["user"]["id"], json!("u_owner"));

    let theirs = f.run(SESSION_ENTITY, reps.clone(), Some(&stranger)).await;
    assert_eq!(
        theirs.data.into_json().unwrap()["_entities"][0],
        Value::Null
    );

    let audited = f.run(SESSION_ENTITY, reps.clone(), Some(&staff)).await;
    let data = audited.data.into_json().unwrap();
    assert_eq!(data["_entities"][0]["current"], json!(false));

    let anonymous = f.run(SESSION_ENTITY, reps, None).await;
    assert_eq!(error_code(&anonymous).as_deref(), Some("UNAUTHENTICATED"));
}
