//! `polygate-telemetry`: serves the telemetry subgraph on its own (`serve`, `schema`, the kit's
//! common commands).

fn main() -> std::process::ExitCode {
    polygate_kit::standalone::Standalone::new(polygate_kit::subgraph::entry::<
        polygate_telemetry::Telemetry,
    >())
    .main()
}
