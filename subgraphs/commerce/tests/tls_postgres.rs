//! The store over TLS with `sslmode=verify-full` (sqlx built with rustls), against the test
//! server, which `e2e/servers/postgres.sh` starts with a certificate for 127.0.0.1 signed by a
//! CA it makes (`postgres.sh ca` prints its file): the right CA and host connect, and a wrong CA
//! or a host name the certificate does not name is refused. (sqlx 0.8.6 with rustls checks the
//! host name for `verify-ca` too, so only `verify-full` is used and tested.)
//!
//! Skipped (with a printed reason) without `POLYGATE_TEST_POSTGRES_URL` and
//! `POLYGATE_TEST_POSTGRES_CA`, except under CI.

use polygate_commerce::PostgresStore;
use polygate_commerce::store::conformance;
use polygate_kit::testing::postgres::with_fresh_database;
use polygate_kit::testing::{server_url, unique_name};
use sqlx::Connection as _;

const CA_VAR: &str = "POLYGATE_TEST_POSTGRES_CA";

/// `url` with `sslmode` and `sslrootcert` set.
fn with_tls(url: &str, mode: &str, root: &str) -> String {
    let mut url = url::Url::parse(url).expect("a database URL");
    url.query_pairs_mut()
        .append_pair("sslmode", mode)
        .append_pair("sslrootcert", root);
    url.to_string()
}

/// A CA of our own that signed nothing the server shows.
fn unrelated_ca() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique_name("polygate_tls"));
    std::fs::create_dir_all(&dir).unwrap();
    let status = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=not the test CA"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .arg("-keyout")
        .arg(dir.join("ca.key"))
        .arg("-out")
        .arg(dir.join("ca.crt"))
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl (installed by e2e/servers/postgres.sh)");
    assert!(status.success());
    dir.join("ca.crt")
}

#[tokio::test]
async fn the_store_connects_with_verify_full_and_refuses_what_it_cannot_verify() {
    let Some(ca) = server_url(CA_VAR) else {
        return;
    };
    with_fresh_database("commerce_tls", |url| async move {
        let verified = with_tls(&url, "verify-full", &ca);
        let mut conn = sqlx::PgConnection::connect(&verified)
            .await
            .expect("verify-full with the server's CA");
        let (ssl, version): (bool, String) =
            sqlx::query_as("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .fetch_one(&mut conn)
                .await
                .unwrap();
        assert!(ssl, "the session is encrypted");
        assert!(version.starts_with("TLSv1."), "{version}");

        // The whole store over it: migrations, a user, an order.
        let store = PostgresStore::connect(&verified)
            .await
            .expect("the store over TLS");
        conformance::create_then_find_by_email(&store).await;
        conformance::pending_order(&store, "tls", 1).await;

        let stranger = unrelated_ca();
        let wrong_ca = with_tls(&url, "verify-full", stranger.to_str().unwrap());
        let refused = sqlx::PgConnection::connect(&wrong_ca).await;
        assert!(
            refused.is_err(),
            "a certificate our CA did not sign is refused"
        );

        // The certificate names 127.0.0.1 and polygate-test-postgres, not localhost: the CA
        // is right, the host is not, and verify-full refuses it.
        let by_name = url.replace("127.0.0.1", "localhost");
        let refused = sqlx::PgConnection::connect(&with_tls(&by_name, "verify-full", &ca)).await;
        let error = refused.expect_err("a host the certificate does not name");
        assert!(error.to_string().contains("not valid for name"), "{error}");
    })
    .await;
}
