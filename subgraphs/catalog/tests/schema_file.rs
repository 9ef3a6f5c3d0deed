//! `schema/catalog.graphql` is what the code serves (regenerate it with
//! `cargo run -p polygate-catalog -- schema > schema/catalog.graphql`, or `polygate schema
//! export`, which trims the trailing blank line).

#[test]
fn the_committed_sdl_matches_the_code() {
    let committed = include_str!("../../../schema/catalog.graphql");
    assert_eq!(
        committed.trim_end(),
        polygate_catalog::schema::sdl().trim_end(),
        "schema/catalog.graphql is out of date"
    );
}
