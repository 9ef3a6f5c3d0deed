//! Fetches GraphiQL's published production bundles at build time, so the gateway serves them
//! itself (`/graphiql/…`) and GraphiQL works with no internet at run time.
//!
//! Why this way: no maintained crate ships the bundles (async-graphql's and juniper's pages load
//! them from a CDN, whose floating versions also change under a running gateway), and pasting
//! 1.6 MB of minified JavaScript into our tree would hide what version it is. `npm pack` fetches
//! exactly the pinned tarballs from the npm registry (no dependency tree: these bundles are
//! self-contained apart from React), their SHA-512 is checked against the pins below, and the
//! four files are copied into `OUT_DIR`, where `include_bytes!` takes them. Without a registry,
//! set `POLYGATE_GRAPHIQL_ASSETS` to a folder holding the four files (a previous build's
//! `OUT_DIR/graphiql`, or the same files from the packages).

use std::path::{Path, PathBuf};
use std::process::Command;

/// (package, version, npm integrity of its tarball, files taken from the package).
const PACKAGES: [(&str, &str, &str, &[&str]); 3] = [
    (
        "react",
        "18.3.1",
        "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        &["umd/react.production.min.js"],
    ),
    (
        "react-dom",
        "18.3.1",
        "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        &["umd/react-dom.production.min.js"],
    ),
    (
        "graphiql",
        "4.1.2",
        "sha512-rNlzQIAzm6i2KBXmVQWBgLvt0TloxFVB2d18bukvdsvjEuFDHsKx5IVOomL1W1o5WW+tE54+ioHb2AEKzO2cUg==",
        &["graphiql.min.js", "graphiql.min.css"],
    ),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=POLYGATE_GRAPHIQL_ASSETS");
    for (package, version, _, _) in PACKAGES {
        let key = package.replace('-', "_").to_ascii_uppercase();
        println!("cargo:rustc-env=POLYGATE_{key}_VERSION={version}");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("graphiql");
    std::fs::create_dir_all(&out).expect("create OUT_DIR/graphiql");
    if let Some(dir) = std::env::var_os("POLYGATE_GRAPHIQL_ASSETS") {
        copy_from(Path::new(&dir), &out);
        return;
    }
    for (package, version, integrity, files) in PACKAGES {
        if files.iter().all(|f| out.join(file_name(f)).exists()) {
            continue;
        }
        let tarball = pack(package, version, integrity, &out);
        for file in files {
            extract(&tarball, file, &out);
        }
        let _ = std::fs::remove_file(&tarball);
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn fail(what: &str) -> ! {
    panic!(
        "\n\nGraphiQL's assets are fetched from the npm registry at build time ({what}).\n\
         With no registry reachable, set POLYGATE_GRAPHIQL_ASSETS to a folder holding \
         react.production.min.js, react-dom.production.min.js, graphiql.min.js and \
         graphiql.min.css (see gateway/build.rs for the pinned versions).\n"
    )
}

/// `npm pack package@version` into `out`; checks the tarball's integrity against the pin.
fn pack(package: &str, version: &str, integrity: &str, out: &Path) -> PathBuf {
    let output = Command::new("npm")
        .args([
            "pack",
            &format!("{package}@{version}"),
            "--json",
            "--silent",
        ])
        .arg("--pack-destination")
        .arg(out)
        .output()
        .unwrap_or_else(|e| fail(&format!("cannot run npm: {e}")));
    if !output.status.success() {
        fail(&format!(
            "`npm pack {package}@{version}` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let report = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| {
        report
            .split(&format!("\"{name}\": \""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned)
    };
    let got = field("integrity").unwrap_or_default();
    if got != integrity {
        fail(&format!(
            "{package}@{version} has integrity {got}, expected {integrity}"
        ));
    }
    let name = field("filename").unwrap_or_else(|| fail("npm pack named no file"));
    out.join(name)
}

/// Takes `package/<file>` out of `tarball` into `out/<file name>`.
fn extract(tarball: &Path, file: &str, out: &Path) {
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(tarball)
        .arg("-C")
        .arg(out)
        .arg("--strip-components")
        .arg((file.matches('/').count() + 1).to_string())
        .arg(format!("package/{file}"))
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run tar: {e}")));
    if !status.success() || !out.join(file_name(file)).exists() {
        fail(&format!("{} has no {file}", tarball.display()));
    }
}

fn copy_from(dir: &Path, out: &Path) {
    for (_, _, _, files) in PACKAGES {
        for file in files {
            let name = file_name(file);
            std::fs::copy(dir.join(name), out.join(name)).unwrap_or_else(|e| {
                fail(&format!(
                    "POLYGATE_GRAPHIQL_ASSETS has no {name}: {e} ({})",
                    dir.display()
                ))
            });
        }
    }
}
