//! Commerce's Postgres credentials read from AWS Secrets Manager — a local emulator (moto,
//! `e2e/servers/moto.sh`) at `POLYGATE_TEST_AWS_ENDPOINT_URL` — against the real test server
//! (`POLYGATE_TEST_POSTGRES_URL`), where a member of `polygate_password_login` must sign in with
//! its SCRAM password (`e2e/servers/postgres.sh`): the `username` and `password` fields of an
//! RDS-style JSON secret open the store, a wrong password is refused with the server's reason,
//! and a missing field is named by its settings key; no error shows the password.

use std::path::Path;

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use polygate_commerce::{Commerce, CommerceSettings};
use polygate_kit::Subgraph;
use polygate_kit::secret::aws::AwsSecretsManager;
use polygate_kit::subgraph::describe_open_failure;
use polygate_kit::testing::postgres::with_fresh_database;
use polygate_kit::testing::{server_url, unique_name};
use sqlx::{Connection, Executor, PgConnection};

const ENDPOINT_VAR: &str = "POLYGATE_TEST_AWS_ENDPOINT_URL";
const ADMIN_VAR: &str = "POLYGATE_TEST_POSTGRES_URL";

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

/// An RDS-style database secret (`username`, `password`, `host`, `port`, `dbname`); its ARN.
async fn database_secret(
    config: &aws_config::SdkConfig,
    user: &str,
    password: &str,
    dbname: &str,
) -> String {
    let value = serde_json::json!({
        "engine": "postgres", "host": "127.0.0.1", "port": 5432, "dbname": dbname,
        "username": user, "password": password,
    });
    aws_sdk_secretsmanager::Client::new(config)
        .create_secret()
        .name(unique_name("polygate/commerce"))
        .secret_string(value.to_string())
        .send()
        .await
        .expect("the emulator creates the secret")
        .arn()
        .expect("an ARN")
        .to_owned()
}

/// `[subgraphs.commerce]` with `store` and `username`/`password` fields of the secret `arn`.
fn settings(store: &str, arn: &str, password_field: &str) -> CommerceSettings {
    let text = format!(
        r#"
        store = "{store}"
        username = {{ aws_secret = "{arn}", key = "username" }}
        password = {{ aws_secret = "{arn}", key = "{password_field}" }}
        "#
    );
    let settings: CommerceSettings = toml::from_str(&text).expect("the section parses");
    Commerce::validate(&settings, false).expect("valid settings");
    settings
}

#[tokio::test]
async fn the_store_signs_in_with_a_secret_password_and_a_wrong_one_is_refused() {
    let Some(endpoint) = server_url(ENDPOINT_VAR) else {
        return;
    };
    let Some(admin_url) = server_url(ADMIN_VAR) else {
        return;
    };
    let config = emulator(&endpoint);
    let role = unique_name("commerce_app");
    // What a generated password looks like: characters a URL would otherwise misread.
    let password = format!("p@ss:{}/%#?", unique_name("w"));
    let (role_in, password_in) = (role.clone(), password.clone());
    with_fresh_database("commerce_secret", |url| async move {
        let (role, password) = (role_in, password_in);
        let dbname = url.rsplit('/').next().unwrap().to_owned();
        let mut admin = PgConnection::connect(&url).await.unwrap();
        admin
            .execute(
                format!(
                    r#"CREATE ROLE "{role}" LOGIN PASSWORD '{password}'
                       IN ROLE polygate_password_login;
                       ALTER DATABASE "{dbname}" OWNER TO "{role}""#
                )
                .as_str(),
            )
            .await
            .unwrap();
        let manager = AwsSecretsManager::new(config.clone());
        let data_dir = Path::new("/nonexistent");

        // The URL names the admin user and no password: the secret's fields replace both.
        let arn = database_secret(&config, &role, &password, &dbname).await;
        let right = settings(&url, &arn, "password")
            .store_settings_with(data_dir, &manager)
            .await
            .unwrap();
        let opened = polygate_commerce::open(&right)
            .await
            .expect("the store opens with the secret's credentials");
        opened.store.ping().await.unwrap();
        let mut signed_in = PgConnection::connect(&right.url).await.unwrap();
        let user: String = sqlx::query_scalar("SELECT current_user::text")
            .fetch_one(&mut signed_in)
            .await
            .unwrap();
        assert_eq!(user, role, "signed in as the secret's user");
        let migrated: i64 = sqlx::query_scalar("SELECT count(*) FROM _polygate_migrations")
            .fetch_one(&mut signed_in)
            .await
            .unwrap();
        assert!(migrated >= 13, "the role migrated its database: {migrated}");
        signed_in.close().await.unwrap();
        drop(opened);

        // The same role with a wrong password in the secret: the server refuses it.
        let wrong = database_secret(&config, &role, &format!("{password}-old"), &dbname).await;
        let wrong = settings(&url, &wrong, "password")
            .store_settings_with(data_dir, &manager)
            .await
            .unwrap();
        let refused = polygate_commerce::open(&wrong)
            .await
            .err()
            .expect("a wrong password is refused");
        let text = format!("{refused:#}");
        assert!(
            text.contains("password authentication failed"),
            "a clear reason: {text}"
        );
        assert!(!text.contains(&password), "no password in {text}");

        // A field the secret does not have: named by its key, before any connection.
        let missing = settings(&url, &arn, "pasword")
            .store_settings_with(data_dir, &manager)
            .await
            .expect_err("a missing field is an error");
        let text = describe_open_failure("commerce", &missing);
        assert!(
            text.starts_with("subgraphs.commerce.password: cannot read the secret")
                && text.contains("pasword"),
            "{text}"
        );
        assert!(!text.contains(&password), "no password in {text}");
        admin
            .execute(format!(r#"ALTER DATABASE "{dbname}" OWNER TO postgres"#).as_str())
            .await
            .unwrap();
    })
    .await;
    let mut admin = PgConnection::connect(&admin_url).await.unwrap();
    admin
        .execute(format!(r#"DROP ROLE IF EXISTS "{role}""#).as_str())
        .await
        .unwrap();
}
