//! `polygate-session serve|schema`: the session subgraph on its own, through the kit's runner
//! (configured by `[subgraphs.session]` in polygate.toml and `POLYGATE_SUBGRAPHS__SESSION__*`).

polygate_kit::use_mimalloc!();

fn main() -> std::process::ExitCode {
    polygate_kit::standalone::Standalone::new(polygate_kit::subgraph::entry::<
        polygate_session::Sessions,
    >())
    .main()
}
