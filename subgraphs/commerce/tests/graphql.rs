//! The schema executed directly over a SQLite store: registration, sign-in, and who may see what.

mod common;

use common::{codes, fixture, json, viewer};
use serde_json::json;

const REGISTER: &str =
    "mutation($i: RegisterInput!) { register(input: $i) { id email name staff createdAt } }";
const LOGIN: &str = "mutation($e: String!, $p: String!) {
    login(email: $e, password: $p) { token expiresAt user { id email staff } } }";

#[tokio::test]
async fn register_creates_a_non_staff_user() {
    let f = fixture().await;
    let input =
        json!({"i": {"email": " Carol@Example.com ", "password": "long enough", "name": "Carol"}});
    let response = f.run(REGISTER, input, None).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let user = &json(&response)["register"];
    assert!(user["id"].as_str().unwrap().parse::<i64>().unwrap() > 0);
    assert_eq!(user["name"], "Carol");
    assert_eq!(user["staff"], false);
    assert!(user["createdAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        user["email"], "carol@example.com",
        "the new owner sees the email"
    );
}

#[tokio::test]
async fn registering_a_taken_email_is_a_conflict() {
    let f = fixture().await;
    f.register("dave@example.com", "password-1", "Dave").await;
    let input =
        json!({"i": {"email": "DAVE@example.com", "password": "password-2", "name": "Dave 2"}});
    let response = f.run(REGISTER, input, None).await;
    assert_eq!(codes(&response), ["CONFLICT"]);
}

#[tokio::test]
async fn invalid_registration_fields_are_bad_user_input_naming_the_field() {
    let f = fixture().await;
    for (email, password, name, field) in [
        ("not-an-email", "password-1", "Eve", "email"),
        ("eve@example.com", "short", "Eve", "password"),
        ("eve@example.com", "password-1", "   ", "name"),
    ] {
        let input = json!({"i": {"email": email, "password": password, "name": name}});
        let response = f.run(REGISTER, input, None).await;
        assert_eq!(codes(&response), ["BAD_USER_INPUT"], "{field}");
        assert!(
            response.errors[0].message.starts_with(field),
            "{}",
            response.errors[0].message
        );
    }
}

#[tokio::test]
async fn login_with_the_right_password_issues_a_session() {
    let f = fixture().await;
    let id = f
        .register("frank@example.com", "frank-password", "Frank")
        .await;
    let response = f
        .run(
            LOGIN,
            json!({"e": "FRANK@example.com", "p": "frank-password"}),
            None,
        )
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let payload = &json(&response)["login"];
    let token = payload["token"].as_str().unwrap();
    assert_eq!(payload["user"]["id"], id.as_str());
    assert_eq!(payload["expiresAt"], 4_102_444_800_i64);
    assert_eq!(payload["user"]["email"], "frank@example.com");
    assert_eq!(f.issuer.session_of(token), Some((id, false)));

    let logout = "mutation($t: String!) { logout(token: $t) }";
    let response = f.run(logout, json!({"t": token}), None).await;
    assert_eq!(json(&response)["logout"], true);
    assert_eq!(f.issuer.session_of(token), None);
    let response = f.run(logout, json!({"t": token}), None).await;
    assert_eq!(json(&response)["logout"], false, "already revoked");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_fail_alike() {
    let f = fixture().await;
    f.register("grace@example.com", "grace-password", "Grace")
        .await;
    for (email, password) in [
        ("grace@example.com", "not-her-password"),
        ("nobody@example.com", "grace-password"),
        ("not an email", "grace-password"),
    ] {
        let response = f.run(LOGIN, json!({"e": email, "p": password}), None).await;
        assert_eq!(codes(&response), ["UNAUTHENTICATED"], "{email}");
        assert_eq!(response.errors[0].message, "wrong email or password");
    }
}

#[tokio::test]
async fn without_an_issuer_login_says_the_gateway_serves_sign_in() {
    let f = fixture().await;
    let schema = polygate_commerce::schema(
        f.store.clone(),
        None,
        polygate_commerce::PasswordHasher::insecure_fast_for_tests(),
    );
    let response = schema
        .execute(async_graphql::Request::new(
            r#"mutation { login(email: "a@example.com", password: "whatever1") { token } }"#,
        ))
        .await;
    assert_eq!(codes(&response), ["INTERNAL"]);
    assert_eq!(
        response.errors[0].message,
        "sign-in is served by the gateway"
    );
}

#[tokio::test]
async fn me_needs_a_viewer_and_shows_their_own_email() {
    let f = fixture().await;
    let id = f
        .register("heidi@example.com", "heidi-password", "Heidi")
        .await;
    let query = "{ me { id email name } }";

    let anonymous = f.run(query, json!({}), None).await;
    assert_eq!(codes(&anonymous), ["UNAUTHENTICATED"]);

    let signed_in = f.run(query, json!({}), Some(viewer(&id, false))).await;
    assert!(signed_in.errors.is_empty(), "{:?}", signed_in.errors);
    assert_eq!(
        json(&signed_in)["me"],
        json!({"id": id, "email": "heidi@example.com", "name": "Heidi"})
    );
}

#[tokio::test]
async fn user_is_visible_to_themself_and_staff_only() {
    let f = fixture().await;
    let ivan = f
        .register("ivan@example.com", "ivan-password", "Ivan")
        .await;
    let judy = f
        .register("judy@example.com", "judy-password", "Judy")
        .await;
    let query = "query($id: ID!) { user(id: $id) { id email } }";
    let vars = json!({"id": ivan});

    let own = f.run(query, vars.clone(), Some(viewer(&ivan, false))).await;
    assert_eq!(json(&own)["user"]["email"], "ivan@example.com");

    let other = f.run(query, vars.clone(), Some(viewer(&judy, false))).await;
    assert_eq!(codes(&other), ["FORBIDDEN"]);
    assert_eq!(json(&other)["user"], serde_json::Value::Null);

    let staff = f.run(query, vars.clone(), Some(viewer(&judy, true))).await;
    assert!(staff.errors.is_empty(), "{:?}", staff.errors);
    assert_eq!(json(&staff)["user"]["email"], "ivan@example.com");

    let malformed = f
        .run(query, json!({"id": "12abc"}), Some(viewer(&judy, true)))
        .await;
    assert_eq!(codes(&malformed), ["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn users_is_staff_only_and_pages_by_id() {
    let f = fixture().await;
    let report = polygate_commerce::seed_demo(
        f.store.as_ref(),
        &polygate_commerce::PasswordHasher::insecure_fast_for_tests(),
    )
    .await
    .unwrap();
    assert_eq!(report.created.len(), 62);
    let alice = report
        .created
        .iter()
        .find(|u| u.staff)
        .unwrap()
        .id
        .to_string();
    let bob = report
        .created
        .iter()
        .find(|u| !u.staff)
        .unwrap()
        .id
        .to_string();
    let query = "query($first: Int, $after: ID) {
        users(first: $first, after: $after) { nodes { id email } endCursor hasNextPage } }";

    let anonymous = f.run(query, json!({}), None).await;
    assert_eq!(codes(&anonymous), ["UNAUTHENTICATED"]);
    let customer = f.run(query, json!({}), Some(viewer(&bob, false))).await;
    assert_eq!(codes(&customer), ["FORBIDDEN"]);
    for bad in [0, 101] {
        let response = f
            .run(query, json!({"first": bad}), Some(viewer(&alice, true)))
            .await;
        assert_eq!(codes(&response), ["BAD_USER_INPUT"], "first = {bad}");
    }

    let mut seen = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let response = f
            .run(
                query,
                json!({"first": 25, "after": after}),
                Some(viewer(&alice, true)),
            )
            .await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let page = json(&response)["users"].clone();
        for node in page["nodes"].as_array().unwrap() {
            assert!(node["email"].is_string(), "staff see emails");
            seen.push(node["id"].as_str().unwrap().to_owned());
        }
        if page["hasNextPage"] == false {
            break;
        }
        after = page["endCursor"].clone();
    }
    assert_eq!(seen.len(), 62);
    // Ids order by creation millisecond, then shard: pages walk everyone once, in id order.
    let mut expected: Vec<_> = report.created.iter().map(|u| u.id).collect();
    expected.sort();
    let expected: Vec<String> = expected.iter().map(|id| id.to_string()).collect();
    assert_eq!(seen, expected, "every user once, in id order");
}

#[tokio::test]
async fn seeding_twice_is_a_no_op() {
    let f = fixture().await;
    let hasher = polygate_commerce::PasswordHasher::insecure_fast_for_tests();
    let first = polygate_commerce::seed_demo(f.store.as_ref(), &hasher)
        .await
        .unwrap();
    let second = polygate_commerce::seed_demo(f.store.as_ref(), &hasher)
        .await
        .unwrap();
    assert!(!first.skipped && second.skipped && second.created.is_empty());
    let response = f
        .run(
            LOGIN,
            json!({"e": "alice@example.com", "p": "polygate-demo"}),
            None,
        )
        .await;
    assert_eq!(json(&response)["login"]["user"]["staff"], true);
}

#[tokio::test]
async fn an_entity_hides_the_email_from_other_viewers_but_keeps_the_rest() {
    let f = fixture().await;
    let kim = f.register("kim@example.com", "kim-password", "Kim").await;
    let leo = f.register("leo@example.com", "leo-password", "Leo").await;
    let query =
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { name email } } }";
    let vars =
        json!({"r": [{"__typename": "User", "id": kim}, {"__typename": "User", "id": "999"}]});
    let response = f.run(query, vars, Some(viewer(&leo, false))).await;
    assert_eq!(codes(&response), ["FORBIDDEN"]);
    let entities = json(&response)["_entities"].clone();
    assert_eq!(entities[0]["name"], "Kim");
    // async-graphql leaves a failed field inside a fragment out of the data rather than null.
    assert!(
        entities[0]
            .get("email")
            .is_none_or(serde_json::Value::is_null),
        "{entities}"
    );
    assert_eq!(
        entities[1],
        serde_json::Value::Null,
        "unknown ids resolve to null"
    );
}
