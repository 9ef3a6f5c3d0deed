//! The org as the gateway and `polygate-org serve` see it: opened through the `Subgraph` seam
//! with no configuration (the embedded store under `data_dir`), seeded with the demo org, and
//! served over HTTP with `/metrics` showing its store calls and pool.

mod common;

use polygate_kit::{Capabilities, OpenContext, Placement, Subgraph};
use polygate_org::{Org, OrgSettings};
use serde_json::json;

fn context(placement: Placement) -> OpenContext {
    OpenContext {
        data_dir: std::env::temp_dir().join(polygate_kit::testing::unique_name("org_service")),
        placement,
        capabilities: Capabilities::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_configuration_the_org_opens_embedded_seeds_the_demo_and_serves_metrics() {
    let settings = OrgSettings::default();
    assert!(Org::embedded(&settings));
    let ctx = context(Placement::Standalone);
    std::fs::create_dir_all(&ctx.data_dir).unwrap();
    let data_dir = ctx.data_dir.clone();
    let opened = Org::open(&settings, ctx)
        .await
        .expect("open the embedded store");
    assert!(data_dir.join("org.db").exists());
    let seed = opened.seed.expect("a demo seed");
    assert_eq!(seed.seed().await.unwrap().created, 206);
    assert_eq!(
        seed.seed().await.unwrap().created,
        0,
        "seeding again adds nothing"
    );
    assert!(
        polygate_kit::probe::failing(&opened.probes)
            .await
            .is_empty()
    );

    let app = polygate_kit::server::router(
        opened.schema.expect("a schema"),
        opened.probes,
        &Capabilities::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();
    let response: serde_json::Value = client
        .post(format!("http://{addr}/graphql"))
        .json(&json!({"query": "{ employee(id: \"user001\") { name manager { name } } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        response["data"]["employee"],
        json!({"name": "User 001", "manager": {"name": "Alice Admin"}})
    );
    let metrics = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        r#"polygate_store_call_seconds_count{engine="sqlite",operation="employees_by_ids",outcome="ok",subgraph="org"}"#,
        r#"polygate_store_call_seconds_count{engine="sqlite",operation="managers_of",outcome="ok",subgraph="org"}"#,
        r#"polygate_org_pool_max_connections{engine="sqlite"} 4"#,
        r#"polygate_org_store_calls_in_flight{engine="sqlite"} 0"#,
    ] {
        assert!(
            metrics.contains(expected),
            "{expected} missing from:\n{metrics}"
        );
    }
    let ready = client
        .get(format!("http://{addr}/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn opened_remote_it_serves_no_schema() {
    let ctx = context(Placement::Remote);
    std::fs::create_dir_all(&ctx.data_dir).unwrap();
    let opened = Org::open(&OrgSettings::default(), ctx).await.unwrap();
    assert!(opened.schema.is_none());
}

#[test]
fn the_section_parses_through_the_kit_and_refuses_unknown_keys() {
    let entry = polygate_kit::subgraph::entry::<Org>();
    assert_eq!(entry.name(), "org");
    assert_eq!(entry.default_port(), 4005);
    let table: toml::Table =
        toml::from_str("store = \"neo4j+s://x.databases.neo4j.io\"\npassword = \"p\"").unwrap();
    let parsed = entry.parse(table, false).unwrap();
    assert!(!parsed.embedded());
    let bad: toml::Table = toml::from_str("store = \"mysql://x\"").unwrap();
    assert_eq!(entry.parse(bad, false).unwrap_err().key, "store");
    let unknown: toml::Table = toml::from_str("stor = \"embedded\"").unwrap();
    assert!(entry.parse(unknown, false).is_err());
}

#[tokio::test]
async fn export_and_import_move_an_org_between_stores_through_a_json_file() {
    use polygate_org::OrgStore as _;
    let dir = std::env::temp_dir().join(polygate_kit::testing::unique_name("org_cli"));
    std::fs::create_dir_all(&dir).unwrap();
    let source = polygate_org::SqliteStore::open(&dir.join("source.db"))
        .await
        .unwrap();
    source.import(&polygate_org::chart::demo()).await.unwrap();
    let binary = env!("CARGO_BIN_EXE_polygate-org");
    let store = |name: &str| format!("sqlite:{}", dir.join(name).display());
    let exported = std::process::Command::new(binary)
        .args(["export", "--store", &store("source.db")])
        .output()
        .unwrap();
    assert!(exported.status.success(), "{exported:?}");
    let file = dir.join("org.json");
    std::fs::write(&file, &exported.stdout).unwrap();
    let imported = std::process::Command::new(binary)
        .args(["import", "--store", &store("target.db")])
        .arg(&file)
        .output()
        .unwrap();
    assert!(imported.status.success(), "{imported:?}");
    assert!(String::from_utf8_lossy(&imported.stderr).contains("added 206"));
    let target = polygate_org::SqliteStore::open(&dir.join("target.db"))
        .await
        .unwrap();
    assert_eq!(
        target.export().await.unwrap(),
        source.export().await.unwrap()
    );
}
