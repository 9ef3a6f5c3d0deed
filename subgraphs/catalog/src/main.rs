//! `polygate-catalog serve|schema`: the catalog subgraph on its own (the kit's runner).

fn main() -> std::process::ExitCode {
    polygate_kit::standalone::Standalone::new(polygate_kit::subgraph::entry::<
        polygate_catalog::Catalog,
    >())
    .main()
}
