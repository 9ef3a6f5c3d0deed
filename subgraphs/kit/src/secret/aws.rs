//! [`SecretResolver`] over AWS Secrets Manager (`GetSecretValue`), with the SDK's default
//! configuration: credentials from the default chain (environment, profile, web identity, ECS,
//! IMDS) and `AWS_ENDPOINT_URL` honoured, which is how tests point it at a local emulator.
//!
//! Non-obvious decision: the client is built for the region named in each ARN, not for
//! `AWS_REGION`: a secret lives in one region, and a service running elsewhere (the gateway in
//! GCP beside Cloud SQL, say) would otherwise need its region configured twice.

use std::time::Duration;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_secretsmanager::config::Region;
use aws_sdk_secretsmanager::error::DisplayErrorContext;

use super::{SecretArn, SecretResolver};

/// Upper bound on one `GetSecretValue`, retries included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Secrets Manager with a given SDK configuration.
#[derive(Clone, Debug)]
pub struct AwsSecretsManager {
    config: SdkConfig,
}

impl AwsSecretsManager {
    /// With the SDK's default configuration (environment, profile, instance role).
    pub async fn from_env() -> Self {
        Self::new(aws_config::defaults(BehaviorVersion::latest()).load().await)
    }

    pub fn new(config: SdkConfig) -> Self {
        Self { config }
    }

    /// A Secrets Manager client for `region`.
    pub fn client(&self, region: &str) -> aws_sdk_secretsmanager::Client {
        let config = aws_sdk_secretsmanager::config::Builder::from(&self.config)
            .region(Region::new(region.to_owned()))
            .build();
        aws_sdk_secretsmanager::Client::from_conf(config)
    }
}

#[async_trait]
impl SecretResolver for AwsSecretsManager {
    async fn secret_string(&self, arn: &str) -> anyhow::Result<String> {
        let parsed = SecretArn::parse(arn).map_err(anyhow::Error::msg)?;
        let call = self
            .client(parsed.region)
            .get_secret_value()
            .secret_id(arn)
            .send();
        let reply = tokio::time::timeout(CALL_TIMEOUT, call)
            .await
            .map_err(|_| anyhow::anyhow!("reading secret {arn} timed out after {CALL_TIMEOUT:?}"))?
            .map_err(|e| anyhow::anyhow!("cannot read secret {arn}: {}", DisplayErrorContext(e)))?;
        reply
            .secret_string()
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("secret {arn} holds binary data, not a string"))
    }
}
