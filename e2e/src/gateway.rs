//! Starting the gateway (and subgraph services) the way a user would, on free ports with a
//! throwaway data folder.

use polygate_kit::testing::ScratchDir;

use crate::process::{Service, free_port};

/// A fresh data folder under the system temp dir, removed when dropped: a test keeps it for as
/// long as a process uses it (or hands it to the process with [`Service::owning`]).
pub fn temp_data_dir(label: &str) -> ScratchDir {
    ScratchDir::new(label)
}

/// `polygate serve` with every subgraph embedded and in-process, plus `extra_env`.
pub async fn embedded_gateway(extra_env: &[(&str, String)]) -> anyhow::Result<Service> {
    embedded_gateway_logging(extra_env, None).await
}

/// As [`embedded_gateway`], with the gateway's log written to `log` when given.
pub async fn embedded_gateway_logging(
    extra_env: &[(&str, String)],
    log: Option<&std::path::Path>,
) -> anyhow::Result<Service> {
    let port = free_port();
    // Seeded, the six embedded stores take about 90 MB: removed when the gateway is dropped.
    let data = ScratchDir::new("gw");
    let mut env = vec![
        ("POLYGATE_SERVER__LISTEN", format!("127.0.0.1:{port}")),
        (
            "POLYGATE_SERVER__DATA_DIR",
            data.path().display().to_string(),
        ),
        ("RUST_LOG", "warn".to_owned()),
    ];
    env.extend(extra_env.iter().cloned());
    Ok(
        Service::start_logging("polygate", &["serve"], &env, port, "/readiness", log)
            .await?
            .owning(data),
    )
}

/// A subgraph binary serving on its own (`polygate-<name> serve`), configured like the gateway
/// by `POLYGATE_SUBGRAPHS__…` variables in `env`.
pub async fn subgraph_service(binary: &str, env: &[(&str, String)]) -> anyhow::Result<Service> {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut all_env = vec![("RUST_LOG", "warn".to_owned())];
    all_env.extend(env.iter().cloned());
    Service::start(
        binary,
        &["serve", "--listen", &listen],
        &all_env,
        port,
        "/health",
    )
    .await
}

/// Demo credentials the seed creates.
pub const DEMO_PASSWORD: &str = "polygate-demo";
pub const DEMO_STAFF_EMAIL: &str = "alice@example.com";

/// Signs `email` in through the gateway and returns the token, or panics with the response.
pub async fn login_token(client: &crate::Client, email: &str, password: &str) -> String {
    let r = client
        .query(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
            serde_json::json!({ "e": email, "p": password }),
        )
        .await;
    r["data"]["login"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login failed: {r}"))
        .to_owned()
}
