//! The org schema over the embedded store with the demo org: traversal fields, the `User` link,
//! federation entities, error codes, and the reorganisation mutations.

mod common;

use std::sync::Arc;

use async_graphql::Request;
use polygate_org::{OrgSchema, OrgStore};
use serde_json::json;

async fn demo_schema() -> OrgSchema {
    let store = common::sqlite_store().await;
    store.import(&polygate_org::chart::demo()).await.unwrap();
    common::schema(Arc::new(store))
}

async fn run(schema: &OrgSchema, request: impl Into<Request>) -> async_graphql::Response {
    schema.execute(request).await
}

#[tokio::test]
async fn an_employee_shows_manager_reports_chain_and_span() {
    let schema = demo_schema().await;
    let response = run(
        &schema,
        r#"{ employee(id: "user005") {
               name title role department { id name parent { id } }
               manager { id name } reports { id }
               chainOfCommand { id }
               spanOfControl { direct total } } }"#,
    )
    .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let e = &common::json(&response)["employee"];
    assert_eq!(e["name"], "User 005");
    assert_eq!(e["role"], "MEMBER");
    assert_eq!(e["department"]["id"], "platform");
    assert_eq!(e["department"]["parent"]["id"], "engineering");
    assert_eq!(e["manager"]["id"], "user003");
    let chain: Vec<_> = e["chainOfCommand"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert_eq!(chain, [json!("user003"), json!("bob"), json!("alice")]);
    let reports = e["reports"].as_array().unwrap().len() as i64;
    assert!(reports > 5);
    assert_eq!(e["spanOfControl"]["direct"], reports);
    assert_eq!(e["spanOfControl"]["total"], reports);
}

#[tokio::test]
async fn subordinates_page_with_a_cursor_and_refuse_bad_arguments() {
    let schema = demo_schema().await;
    let page = |after: Option<String>| {
        let request = Request::new(
            r#"query($after: String) { employee(id: "bob") {
                   subordinates(maxDepth: 2, first: 3, after: $after) {
                     items { depth employee { id } } nextCursor } } }"#,
        )
        .variables(async_graphql::Variables::from_json(
            json!({ "after": after }),
        ));
        let schema = schema.clone();
        async move { schema.execute(request).await }
    };
    let first = page(None).await;
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    let data = common::json(&first);
    let items = &data["employee"]["subordinates"]["items"];
    assert_eq!(items[0], json!({"depth": 1, "employee": {"id": "user003"}}));
    assert_eq!(items[2], json!({"depth": 2, "employee": {"id": "user005"}}));
    let cursor = data["employee"]["subordinates"]["nextCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = page(Some(cursor)).await;
    let data = common::json(&second);
    let ids: Vec<_> = data["employee"]["subordinates"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["employee"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        ["user006", "user007", "user008"],
        "the next page starts after the cursor"
    );

    for bad in [
        r#"{ employee(id: "bob") { subordinates(maxDepth: 0) { nextCursor } } }"#,
        r#"{ employee(id: "bob") { subordinates(first: 101) { nextCursor } } }"#,
        r#"{ employee(id: "bob") { subordinates(after: "junk") { nextCursor } } }"#,
        r#"{ employee(id: "Bob!") { name } }"#,
        r#"{ employeeByEmail(email: "not-an-email") { name } }"#,
    ] {
        let response = run(&schema, bad).await;
        assert_eq!(
            common::code(&response).as_deref(),
            Some("BAD_USER_INPUT"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn lowest_common_manager_and_department_tree_answer_from_the_demo_org() {
    let schema = demo_schema().await;
    let response = run(
        &schema,
        r#"{ lowestCommonManager(a: "user005", b: "user009") { id }
             department(id: "company") { head { id } children { id }
               tree { department { id } depth headCount totalHeadCount } } }"#,
    )
    .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = common::json(&response);
    assert_eq!(data["lowestCommonManager"]["id"], "bob");
    assert_eq!(data["department"]["head"]["id"], "alice");
    assert_eq!(
        data["department"]["children"],
        json!([{"id": "engineering"}, {"id": "sales"}, {"id": "support"}])
    );
    let tree = data["department"]["tree"].as_array().unwrap();
    assert_eq!(tree.len(), 6);
    assert_eq!(
        tree[0],
        json!({"department": {"id": "company"}, "depth": 0, "headCount": 1, "totalHeadCount": 200})
    );
    let people = run(
        &schema,
        r#"{ department(id: "platform") { people(first: 100) { items { id } nextCursor } } }"#,
    )
    .await;
    let data = common::json(&people);
    let count = data["department"]["people"]["items"]
        .as_array()
        .unwrap()
        .len();
    let platform = tree
        .iter()
        .find(|r| r["department"]["id"] == "platform")
        .unwrap();
    assert_eq!(count as i64, platform["totalHeadCount"].as_i64().unwrap());
    assert_eq!(data["department"]["people"]["nextCursor"], json!(null));
}

#[tokio::test]
async fn a_user_representation_resolves_to_its_employee_by_email() {
    let schema = demo_schema().await;
    let response = run(
        &schema,
        Request::new(
            r#"query($r: [_Any!]!) { _entities(representations: $r) {
                   ... on User { employee { id manager { name } reports { name } } }
                   ... on Employee { name }
                   ... on Department { name } } }"#,
        )
        .variables(async_graphql::Variables::from_json(json!({"r": [
            {"__typename": "User", "email": "Bob@Example.com"},
            {"__typename": "User", "email": "stranger@example.com"},
            {"__typename": "Employee", "id": "user042"},
            {"__typename": "Department", "id": "platform"},
        ]}))),
    )
    .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let entities = &common::json(&response)["_entities"];
    assert_eq!(entities[0]["employee"]["id"], "bob");
    assert_eq!(entities[0]["employee"]["manager"]["name"], "Alice Admin");
    assert_eq!(
        entities[0]["employee"]["reports"].as_array().unwrap().len(),
        2
    );
    assert_eq!(entities[1]["employee"], json!(null), "not an employee");
    assert_eq!(entities[2]["name"], "User 042");
    assert_eq!(entities[3]["name"], "Platform");
}

#[tokio::test]
async fn email_needs_a_signed_in_viewer() {
    let schema = demo_schema().await;
    let query = r#"{ employee(id: "bob") { email user { email } } }"#;
    let anonymous = run(&schema, query).await;
    assert_eq!(common::code(&anonymous).as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(common::json(&anonymous)["employee"]["email"], json!(null));
    let signed_in = run(&schema, common::as_viewer(Request::new(query), false)).await;
    assert!(signed_in.errors.is_empty(), "{:?}", signed_in.errors);
    assert_eq!(
        common::json(&signed_in)["employee"]["email"],
        "bob@example.com"
    );
    assert_eq!(
        common::json(&signed_in)["employee"]["user"]["email"],
        "bob@example.com"
    );
}

#[tokio::test]
async fn reorganisations_are_for_staff_and_carry_their_codes() {
    let schema = demo_schema().await;
    let move_team = r#"mutation { moveTeam(managerId: "user005", newManagerId: "user009") { version changed } }"#;
    let anonymous = run(&schema, move_team).await;
    assert_eq!(common::code(&anonymous).as_deref(), Some("UNAUTHENTICATED"));
    let customer = run(&schema, common::as_viewer(Request::new(move_team), false)).await;
    assert_eq!(common::code(&customer).as_deref(), Some("FORBIDDEN"));

    let staff = |q: &str| common::as_viewer(Request::new(q.to_owned()), true);
    let moved = run(&schema, staff(move_team)).await;
    assert!(moved.errors.is_empty(), "{:?}", moved.errors);
    assert_eq!(
        common::json(&moved)["moveTeam"],
        json!({"version": 1, "changed": true})
    );
    let retried = run(&schema, staff(move_team)).await;
    assert_eq!(
        common::json(&retried)["moveTeam"],
        json!({"version": 1, "changed": false})
    );

    let cycle = run(
        &schema,
        staff(r#"mutation { moveTeam(managerId: "bob", newManagerId: "user005") { version } }"#),
    )
    .await;
    assert_eq!(common::code(&cycle).as_deref(), Some("BAD_USER_INPUT"));
    let stale = run(&schema, staff(r#"mutation { moveEmployee(employeeId: "user020", newManagerId: "user012", expectedVersion: 0) { version } }"#)).await;
    assert_eq!(common::code(&stale).as_deref(), Some("CONFLICT"));
    let unknown = run(
        &schema,
        staff(r#"mutation { mergeDepartments(fromId: "nowhere", intoId: "sales") { version } }"#),
    )
    .await;
    assert_eq!(common::code(&unknown).as_deref(), Some("NOT_FOUND"));
    let merged = run(&schema, staff(r#"mutation { mergeDepartments(fromId: "support", intoId: "sales", expectedVersion: 1) { version changed } }"#)).await;
    assert_eq!(
        common::json(&merged)["mergeDepartments"],
        json!({"version": 2, "changed": true})
    );
    let version = run(&schema, "{ orgVersion }").await;
    assert_eq!(common::json(&version)["orgVersion"], 2);
}

#[tokio::test]
async fn a_failing_store_fails_only_its_fields_with_store_unavailable() {
    let store = common::sqlite_store().await;
    store.import(&polygate_org::chart::demo()).await.unwrap();
    let pool = store.pool().clone();
    let schema = common::schema(Arc::new(store));
    pool.close().await;
    let response = run(&schema, r#"{ employee(id: "bob") { name } orgVersion }"#).await;
    assert_eq!(
        common::code(&response).as_deref(),
        Some("STORE_UNAVAILABLE")
    );
    assert!(
        !format!("{:?}", response.errors).contains("pool"),
        "details stay in the log"
    );
}

#[test]
fn the_committed_sdl_matches_the_code() {
    let committed = include_str!("../../../schema/org.graphql");
    assert_eq!(
        committed.trim_end(),
        polygate_org::sdl().trim_end(),
        "run `cargo run -p polygate-org -- schema > schema/org.graphql` (or `polygate schema export`)"
    );
}
