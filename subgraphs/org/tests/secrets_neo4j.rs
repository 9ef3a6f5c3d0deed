//! Neo4j credentials read from AWS Secrets Manager — a local emulator (moto,
//! `e2e/servers/moto.sh`) at `POLYGATE_TEST_AWS_ENDPOINT_URL` — against a Neo4j server with
//! authentication on (`e2e/servers/neo4j.sh` started with `POLYGATE_SERVERS_NEO4J_PASSWORD`) at
//! `POLYGATE_TEST_NEO4J_AUTH_URL`, whose `neo4j` user has the password
//! `POLYGATE_TEST_NEO4J_AUTH_PASSWORD`: the secret's `username` and `password` sign the store in,
//! a wrong password is refused with the server's reason, and neither error shows a password.

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use polygate_kit::secret::aws::AwsSecretsManager;
use polygate_kit::testing::{server_url, unique_name};
use polygate_org::{Neo4jStore, OrgSettings, OrgStore as _};

/// SDK configuration for the emulator: its endpoint, a test key.
fn emulator(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("eu-west-1"))
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

/// An Aura-style credentials secret; its ARN.
async fn credentials_secret(config: &aws_config::SdkConfig, password: &str) -> String {
    let value = serde_json::json!({ "username": "neo4j", "password": password });
    aws_sdk_secretsmanager::Client::new(config)
        .create_secret()
        .name(unique_name("polygate/org"))
        .secret_string(value.to_string())
        .send()
        .await
        .expect("the emulator creates the secret")
        .arn()
        .expect("an ARN")
        .to_owned()
}

fn settings(url: &str, arn: &str) -> OrgSettings {
    let settings: OrgSettings = toml::from_str(&format!(
        r#"
        store = "{url}"
        user = {{ aws_secret = "{arn}", key = "username" }}
        password = {{ aws_secret = "{arn}", key = "password" }}
        max_connections = 2
        "#
    ))
    .expect("the section parses");
    settings.validate().expect("valid settings");
    settings
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_signs_in_with_a_secret_password_and_a_wrong_one_is_refused() {
    let Some(endpoint) = server_url("POLYGATE_TEST_AWS_ENDPOINT_URL") else {
        return;
    };
    let Some(url) = server_url("POLYGATE_TEST_NEO4J_AUTH_URL") else {
        return;
    };
    let password = std::env::var("POLYGATE_TEST_NEO4J_AUTH_PASSWORD")
        .expect("POLYGATE_TEST_NEO4J_AUTH_PASSWORD: the password the auth server was started with");
    let config = emulator(&endpoint);
    let manager = AwsSecretsManager::new(config.clone());

    let right = settings(&url, &credentials_secret(&config, &password).await);
    let credentials = right.credentials_with(&manager).await.unwrap();
    assert_eq!(credentials, ("neo4j".to_owned(), password.clone()));
    let store = Neo4jStore::connect(&right.neo4j(credentials))
        .await
        .expect("signs in with the secret's password");
    store.ping().await.unwrap();
    drop(store);

    let wrong_password = format!("{password}-old");
    let wrong = settings(&url, &credentials_secret(&config, &wrong_password).await);
    let credentials = wrong.credentials_with(&manager).await.unwrap();
    let refused = Neo4jStore::connect(&wrong.neo4j(credentials))
        .await
        .err()
        .expect("a wrong password is refused");
    let text = refused.to_string();
    assert!(
        text.to_lowercase().contains("auth"),
        "the server's reason: {text}"
    );
    assert!(
        !text.contains(&password) && !text.contains(&wrong_password),
        "no password in {text}"
    );
}
