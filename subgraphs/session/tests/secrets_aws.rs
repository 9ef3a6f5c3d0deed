//! Secrets by reference against a local AWS API emulator (moto, `e2e/servers/moto.sh`) at
//! `POLYGATE_TEST_AWS_ENDPOINT_URL`: a secret created there is read by ARN (whole, or one field
//! of a JSON secret), and a session store whose `redis_password` references it authenticates to
//! a Redis ACL user (`POLYGATE_TEST_REDIS_URL`) with the value read.

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use polygate_kit::Subgraph;
use polygate_kit::secret::aws::AwsSecretsManager;
use polygate_kit::secret::{AwsSecretRef, Secret, SecretResolver};
use polygate_kit::testing::{server_url, unique_name};
use polygate_session::store::redis::RedisOptions;
use polygate_session::store::{RedisStore, SessionPolicy, SessionStore};
use polygate_session::{SessionSettings, Sessions};

const ENDPOINT_VAR: &str = "POLYGATE_TEST_AWS_ENDPOINT_URL";
const REGION: &str = "eu-west-1";

/// SDK configuration for the emulator: its endpoint, a test key.
fn emulator(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "polygate-tests",
            )),
        )
        .build()
}

/// Creates a secret holding `value` in the emulator; returns its ARN.
async fn create_secret(config: &aws_config::SdkConfig, value: &str) -> String {
    let client = aws_sdk_secretsmanager::Client::new(config);
    let created = client
        .create_secret()
        .name(unique_name("polygate/test"))
        .secret_string(value)
        .send()
        .await
        .expect("the emulator creates the secret");
    created.arn().expect("an ARN").to_owned()
}

#[tokio::test]
async fn a_secret_is_read_by_arn_whole_or_by_json_field() {
    let Some(endpoint) = server_url(ENDPOINT_VAR) else {
        return;
    };
    let config = emulator(&endpoint);
    let json = r#"{"username":"app","password":"pa55-from-secrets-manager"}"#;
    let arn = create_secret(&config, json).await;
    assert!(
        arn.starts_with("arn:aws:secretsmanager:eu-west-1:"),
        "{arn}"
    );
    let manager = AwsSecretsManager::new(config);
    assert_eq!(manager.secret_string(&arn).await.unwrap(), json);
    let field = Secret::Aws(AwsSecretRef {
        aws_secret: arn.clone(),
        key: Some("password".into()),
    });
    assert_eq!(
        field.resolve(&manager).await.unwrap(),
        "pa55-from-secrets-manager"
    );
    let missing = format!("{arn}-missing");
    let err = manager.secret_string(&missing).await.unwrap_err();
    assert!(format!("{err:#}").contains("ResourceNotFound"), "{err:#}");
}

#[tokio::test]
async fn a_store_authenticates_with_a_password_read_from_secrets_manager() {
    let Some(endpoint) = server_url(ENDPOINT_VAR) else {
        return;
    };
    let Some(redis_url) = server_url("POLYGATE_TEST_REDIS_URL") else {
        return;
    };
    let config = emulator(&endpoint);
    let user = unique_name("app");
    let password = unique_name("pw");
    let arn = create_secret(
        &config,
        &format!(r#"{{"username":"{user}","password":"{password}"}}"#),
    )
    .await;
    let admin = redis::Client::open(redis_url.as_str()).unwrap();
    let mut admin = admin.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("ACL")
        .arg(
            &[
                "SETUSER",
                &user,
                "on",
                &format!(">{password}"),
                "~*",
                "+@all",
            ][..],
        )
        .query_async(&mut admin)
        .await
        .unwrap();

    let text = format!(
        r#"
        store = "{redis_url}"
        redis_username = {{ aws_secret = "{arn}", key = "username" }}
        redis_password = {{ aws_secret = "{arn}", key = "password" }}
        "#
    );
    let settings: SessionSettings = toml::from_str(&text).unwrap();
    Sessions::validate(&settings, false).unwrap();
    let mut options = RedisOptions::default();
    settings
        .resolve_credentials(&mut options, &AwsSecretsManager::new(config))
        .await
        .unwrap();
    assert_eq!(options.username.as_deref(), Some(user.as_str()));
    let store = RedisStore::connect_with(
        &redis_url,
        SessionPolicy::default(),
        &unique_name("pssec"),
        &options,
    )
    .await
    .expect("the ACL user's password came from the secret");
    let (token, _) = store.create("u1", false).await.unwrap();
    assert!(store.validate(&token).await.unwrap().is_some());

    let wrong = RedisOptions {
        password: Some("not-the-secret".into()),
        ..options.clone()
    };
    assert!(
        RedisStore::connect_with(&redis_url, SessionPolicy::default(), "pssec", &wrong)
            .await
            .is_err()
    );
    let _: () = redis::cmd("ACL")
        .arg(&["DELUSER", &user][..])
        .query_async(&mut admin)
        .await
        .unwrap();
}
