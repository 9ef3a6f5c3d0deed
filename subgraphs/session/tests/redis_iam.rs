//! ElastiCache IAM authentication against the TLS Redis (`POLYGATE_TEST_REDIS_TLS_URL`,
//! `POLYGATE_TEST_REDIS_TLS_CA_FILE`): an ACL user whose password is set to the token the
//! signer makes for a given time stands in for ElastiCache's token check, so a connection that
//! gets in proves it sent `AUTH <user> <token>` with exactly that token. Then: a reconnect signs
//! a fresh token, and a live connection re-authenticates every refresh interval.
//!
//! One test, steps in order: it reads the server's `AUTH` call count, which another test in the
//! same binary would disturb.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use polygate_kit::testing::{server_url, unique_name};
use polygate_session::iam::{AwsCredentials, Clock, IamAuth, IamSettings, token};
use polygate_session::store::redis::RedisOptions;
use polygate_session::store::{RedisStore, SessionPolicy, SessionStore};
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;

struct TestClock(Mutex<SystemTime>);

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

fn keys() -> AwsCredentials {
    AwsCredentials {
        access_key_id: "AKIAPOLYGATETEST".into(),
        secret_access_key: "polygate-test-secret-key".into(),
        session_token: Some("polygate-session-token".into()),
    }
}

async fn acl(admin: &mut MultiplexedConnection, args: &[&str]) {
    let _: () = redis::cmd("ACL")
        .arg(args)
        .query_async(admin)
        .await
        .unwrap();
}

/// A plain connection with `options` (IAM auth included).
async fn connect(options: &RedisOptions, url: &str) -> redis::RedisResult<MultiplexedConnection> {
    let config = options.connection(AsyncConnectionConfig::new());
    options
        .client(url)?
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

/// The server's count of `AUTH` (and `HELLO … AUTH`) calls so far.
async fn auth_calls(admin: &mut MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(admin)
        .await
        .unwrap();
    ["cmdstat_auth:calls=", "cmdstat_hello:calls="]
        .iter()
        .map(|prefix| {
            info.lines()
                .find_map(|l| l.strip_prefix(prefix))
                .and_then(|rest| rest.split(',').next())
                .map_or(0, |n| n.parse::<u64>().unwrap())
        })
        .sum()
}

#[tokio::test]
async fn connections_authenticate_with_signed_tokens_and_refresh_them() {
    let Some(url) = server_url("POLYGATE_TEST_REDIS_TLS_URL") else {
        return;
    };
    let Some(ca) = server_url("POLYGATE_TEST_REDIS_TLS_CA_FILE") else {
        return;
    };
    let tls = RedisOptions::with_ca_file(ca.as_ref()).unwrap();
    let mut admin = tls
        .client(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let settings = IamSettings {
        user: unique_name("iam"),
        cache: "polygate-sessions".into(),
        region: "eu-west-1".into(),
        serverless: false,
    };
    // 2026-02-28T23:55:00Z: the end of a month, minutes before midnight.
    let t0 = UNIX_EPOCH + Duration::from_secs(1_772_322_900);
    let clock = Arc::new(TestClock(Mutex::new(t0)));
    let token0 = token(&settings, &keys(), t0);
    let user = settings.user.as_str();
    acl(
        &mut admin,
        &["SETUSER", user, "on", &format!(">{token0}"), "~*", "+@all"],
    )
    .await;

    let refresh = Duration::from_millis(300);
    let iam = IamAuth::new(settings.clone(), Arc::new(keys()), clock.clone(), refresh);
    let options = RedisOptions {
        iam: Some(iam),
        ..tls.clone()
    };

    // The token for the clock's time gets in, as that user.
    let mut conn = connect(&options, &url)
        .await
        .expect("AUTH with the signed token");
    let whoami: String = redis::cmd("ACL")
        .arg("WHOAMI")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(whoami, user);

    // The store connects the same way, and works.
    let store = RedisStore::connect_with(
        &url,
        SessionPolicy::default(),
        &unique_name("psiam"),
        &options,
    )
    .await
    .expect("the store authenticates with the signed token");
    let (session_token, _) = store.create("u1", false).await.unwrap();
    assert!(store.validate(&session_token).await.unwrap().is_some());

    // A token signed at another time is another password: refused.
    *clock.0.lock().unwrap() = t0 + Duration::from_secs(1);
    assert!(
        connect(&options, &url).await.is_err(),
        "a token for another time was accepted"
    );

    // Ten minutes on, only the fresh token is valid; a reconnect (here: the server dropping the
    // store's connections) signs it.
    let t1 = t0 + Duration::from_secs(600);
    *clock.0.lock().unwrap() = t1;
    let token1 = token(&settings, &keys(), t1);
    acl(
        &mut admin,
        &["SETUSER", user, "resetpass", &format!(">{token1}")],
    )
    .await;
    let _: i64 = redis::cmd("CLIENT")
        .arg(&["KILL", "USER", user][..])
        .query_async(&mut admin)
        .await
        .unwrap();
    let mut validated = None;
    for _ in 0..20 {
        match store.validate(&session_token).await {
            Ok(found) => {
                validated = Some(found);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert!(
        matches!(validated, Some(Some(_))),
        "the store reconnected with a fresh token"
    );

    // A live connection re-authenticates every refresh interval (AUTH calls keep coming while
    // nothing reconnects).
    let mut conn = connect(&options, &url)
        .await
        .expect("AUTH with the fresh token");
    let before = auth_calls(&mut admin).await;
    tokio::time::sleep(refresh * 4).await;
    let after = auth_calls(&mut admin).await;
    assert!(after >= before + 3, "AUTH calls {before} -> {after}");
    let whoami: String = redis::cmd("ACL")
        .arg("WHOAMI")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(whoami, user);

    drop(store);
    acl(&mut admin, &["DELUSER", user]).await;
}
