//! The restore drill: export the whole org as a chart, wipe the store, restore from the file,
//! and compare counts and the root's whole team. On SQLite always; on the test Neo4j server when
//! `POLYGATE_TEST_NEO4J_URL` is set (in its own test binary, since it wipes the server's one
//! database: cargo runs test binaries one after another).

mod common;

use polygate_org::OrgStore as _;
use polygate_org::backup::{DrillReport, drill};

fn print(engine: &str, report: &DrillReport) {
    eprintln!(
        "{engine} restore drill: {} departments, {} people, {} lines; {} bytes; \
         export {:?}, wipe {:?}, restore {:?}",
        report.after.departments,
        report.after.employees,
        report.after.reporting_lines,
        report.bytes,
        report.export,
        report.wipe,
        report.restore
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_org_restores_from_its_export_with_the_same_counts_and_traversal() {
    let store = common::sqlite_store().await;
    store.import(&polygate_org::chart::demo()).await.unwrap();
    let file = std::env::temp_dir().join(polygate_kit::testing::unique_name("org_backup"));
    let report = drill(&store, &file, || store.wipe()).await.unwrap();
    print("sqlite", &report);
    assert_eq!(report.before, report.after);
    assert_eq!(report.after.employees, 200);
    assert_eq!(report.after.below_root.len(), 199);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_neo4j_org_restores_from_its_export_with_the_same_counts_and_traversal() {
    let Some(store) = common::neo4j_store().await else {
        return;
    };
    store.import(&polygate_org::chart::demo()).await.unwrap();
    let file = std::env::temp_dir().join(polygate_kit::testing::unique_name("org_backup"));
    let report = drill(&store, &file, || store.wipe()).await.unwrap();
    print("neo4j", &report);
    assert_eq!(report.before, report.after);
    assert!(report.after.employees >= 200);
    // The restored graph answers traversals, constraints included (a second load adds nothing).
    assert_eq!(store.import(&polygate_org::chart::demo()).await.unwrap(), 0);
}
