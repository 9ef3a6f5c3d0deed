//! The production path of secrets by reference: `SessionSettings::redis_options` with the AWS
//! SDK's default configuration, pointed at the emulator only through the standard environment
//! (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`). Alone in its test binary
//! because it sets process environment variables.

use polygate_kit::testing::{server_url, unique_name};
use polygate_session::SessionSettings;

#[tokio::test]
async fn the_default_chain_and_aws_endpoint_url_resolve_a_reference() {
    let Some(endpoint) = server_url("POLYGATE_TEST_AWS_ENDPOINT_URL") else {
        return;
    };
    // SAFETY: the only test in this binary, run before any other thread reads the environment.
    unsafe {
        std::env::set_var("AWS_ENDPOINT_URL", &endpoint);
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::remove_var("AWS_PROFILE");
    }
    let manager = polygate_kit::secret::aws::AwsSecretsManager::from_env().await;
    let arn = manager
        .client("us-west-2")
        .create_secret()
        .name(unique_name("polygate/chain"))
        .secret_string("pa55-by-default-chain")
        .send()
        .await
        .expect("the emulator creates the secret")
        .arn()
        .unwrap()
        .to_owned();
    let settings: SessionSettings = toml::from_str(&format!(
        r#"
        store = "redis://127.0.0.1:1"
        redis_password = {{ aws_secret = "{arn}" }}
        "#
    ))
    .unwrap();
    let options = settings.redis_options().await.unwrap();
    assert_eq!(options.password.as_deref(), Some("pa55-by-default-chain"));
}
