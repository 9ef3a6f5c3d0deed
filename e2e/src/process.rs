//! Spawning and stopping the binaries under test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root (this crate lives in `e2e/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("e2e/ has a parent")
        .to_path_buf()
}

/// The folder holding the built binaries: the test executable sits in `<target>/<profile>/deps`.
fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("test executable lives in <target>/<profile>/deps")
        .to_path_buf()
}

/// A binary of this workspace, or a panic telling how to build it; `name` may also be the path
/// of a binary built elsewhere (the gateway-only build, see `e2e/run-tests`).
pub fn binary(name: &str) -> PathBuf {
    let path = match Path::new(name) {
        given if given.is_absolute() => given.to_path_buf(),
        _ => bin_dir().join(name),
    };
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first (e2e/run-tests does)",
        path.display()
    );
    path
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running binary; killed when dropped.
pub struct Service {
    pub name: String,
    pub port: u16,
    child: Child,
    /// The data folder the process was given, removed after the process is stopped.
    data_dir: Option<polygate_kit::testing::ScratchDir>,
}

impl Service {
    /// Starts `binary` with `args` and `env`, and waits until `GET <health_path>` answers 200.
    pub async fn start(
        binary_name: &str,
        args: &[&str],
        env: &[(&str, String)],
        port: u16,
        health_path: &str,
    ) -> anyhow::Result<Service> {
        Self::start_logging(binary_name, args, env, port, health_path, None).await
    }

    /// As [`Service::start`], with the process's output (stdout and stderr) written to `log`
    /// when given, so a test can read the lines it logged.
    pub async fn start_logging(
        binary_name: &str,
        args: &[&str],
        env: &[(&str, String)],
        port: u16,
        health_path: &str,
        log: Option<&Path>,
    ) -> anyhow::Result<Service> {
        let (stdout, stderr) = match log {
            Some(path) => {
                let file = std::fs::File::create(path)?;
                (Stdio::from(file.try_clone()?), Stdio::from(file))
            }
            None => (Stdio::inherit(), Stdio::inherit()),
        };
        let mut command = Command::new(binary(binary_name));
        command
            .args(args)
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn()?;
        let mut service = Service {
            name: binary_name.to_owned(),
            port,
            child,
            data_dir: None,
        };
        service.wait_healthy(health_path).await?;
        Ok(service)
    }

    /// Hands the process's data folder to the service, which removes it once the process ends.
    pub fn owning(mut self, data_dir: polygate_kit::testing::ScratchDir) -> Self {
        self.data_dir = Some(data_dir);
        self
    }

    /// The process id of the running binary.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn wait_healthy(&mut self, path: &str) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("{} exited during start-up: {status}", self.name);
            }
            if let Ok(r) = client.get(self.url(path)).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                anyhow::bail!("{} did not become healthy on port {}", self.name, self.port);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits up to `limit` for the process to exit on its own; true when it did.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Stops the process now (e.g. to show a subgraph outage mid-test).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs a binary to completion and returns whether it succeeded and what it printed on stderr.
pub fn run_to_exit(binary_name: &str, args: &[&str], env: &[(&str, String)]) -> (bool, String) {
    let mut command = Command::new(binary(binary_name));
    command
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().expect("binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
