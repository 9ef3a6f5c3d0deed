//! The committed subgraph SDL files are what the code serves (the supergraph composed from them
//! is checked by `schema/compose --check` in `e2e/run-tests`).

use std::path::Path;

#[test]
fn committed_subgraph_schemas_match_the_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema");
    let drifted = polygate::schema_files::drifted(&dir, &polygate::registry::subgraphs());
    assert!(
        drifted.is_empty(),
        "out of date: {drifted:?}; run `cargo run -p polygate -- schema export` and `schema/compose`"
    );
}

#[test]
fn the_supergraph_names_every_subgraph_of_this_workspace() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema");
    let supergraph = std::fs::read_to_string(dir.join("supergraph.graphql")).unwrap();
    for (name, _) in polygate::schema_files::subgraph_sdls(&polygate::registry::subgraphs()) {
        assert!(
            supergraph.contains(&format!("@join__graph(name: \"{name}\"")),
            "{name} is missing from schema/supergraph.graphql"
        );
    }
}
