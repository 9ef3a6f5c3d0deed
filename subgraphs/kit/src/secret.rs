//! Configuration values that may live in a secret store instead of `polygate.toml`: a key typed
//! [`Secret`] takes either the value itself or a reference, resolved when the subgraph opens.
//!
//! ```toml
//! redis_password = "literal, for local runs"
//! redis_password = { aws_secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:polygate/session-AbCdEf", key = "password" }
//! ```
//!
//! Non-obvious decision: a reference is a TOML table, not a string form such as
//! `secret://arn:…`. A table cannot be mistaken for a value (a password may well start with
//! `secret://`), serde checks its keys (`deny_unknown_fields` catches `aws_secert`), the
//! `POLYGATE_…__AWS_SECRET` variable overrides it like any other key, and `key` picks one field
//! of a JSON secret — which is how RDS- and ElastiCache-managed secrets (and their rotation
//! lambdas) store `{"username": …, "password": …}`. The ARN's region is the one asked, so no
//! `AWS_REGION` is needed.
//!
//! Every store's credential is such a key, beside its URL and replacing what the URL carries
//! ([`credentials`]: the rule, the percent-encoding, and the resolver settings need).

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[cfg(feature = "aws")]
pub mod aws;
pub mod credentials;

/// A value given literally or by reference to a secret store.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Secret {
    /// The value itself.
    Value(String),
    /// A secret in AWS Secrets Manager.
    Aws(AwsSecretRef),
}

/// `{ aws_secret = "arn:…", key = "field" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsSecretRef {
    /// The secret's full ARN (`arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`).
    pub aws_secret: String,
    /// For a JSON secret, the field whose (string) value is meant; absent = the whole string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Value(_) => f.write_str("Secret::Value(***)"),
            Secret::Aws(reference) => write!(f, "Secret::Aws({reference:?})"),
        }
    }
}

/// Where references are looked up: AWS Secrets Manager in production ([`aws::AwsSecretsManager`]
/// with the `aws` feature), anything in tests.
#[async_trait]
pub trait SecretResolver: Send + Sync {
    /// The `SecretString` of the secret with this ARN (its current version).
    async fn secret_string(&self, arn: &str) -> anyhow::Result<String>;
}

/// The parts of a Secrets Manager ARN that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretArn<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub name: &'a str,
}

impl<'a> SecretArn<'a> {
    /// Parses `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`.
    pub fn parse(arn: &'a str) -> Result<Self, String> {
        let parts: Vec<&str> = arn.splitn(7, ':').collect();
        let bad = || {
            format!(
                "`{arn}` is not a Secrets Manager ARN \
                 (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>)"
            )
        };
        let [prefix, partition, service, region, account, kind, name] = parts[..] else {
            return Err(bad());
        };
        let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
        if prefix != "arn"
            || partition.is_empty()
            || service != "secretsmanager"
            || region.is_empty()
            || !account_ok
            || kind != "secret"
            || name.is_empty()
        {
            return Err(bad());
        }
        Ok(Self {
            partition,
            region,
            account,
            name,
        })
    }
}

impl Secret {
    /// Checks what can be checked without asking the store (the ARN's shape), for `validate`.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Secret::Value(_) => Ok(()),
            Secret::Aws(reference) => {
                SecretArn::parse(&reference.aws_secret)?;
                match &reference.key {
                    Some(key) if key.is_empty() => Err("`key` must not be empty".to_owned()),
                    _ => Ok(()),
                }
            }
        }
    }

    /// Whether the value comes from a secret store (and so needs a resolver at open).
    pub fn is_reference(&self) -> bool {
        !matches!(self, Secret::Value(_))
    }

    /// The value: the literal, or the referenced secret (its `key` field when one is named).
    pub async fn resolve(&self, resolver: &dyn SecretResolver) -> anyhow::Result<String> {
        let reference = match self {
            Secret::Value(value) => return Ok(value.clone()),
            Secret::Aws(reference) => reference,
        };
        SecretArn::parse(&reference.aws_secret).map_err(anyhow::Error::msg)?;
        let text = resolver.secret_string(&reference.aws_secret).await?;
        let Some(key) = &reference.key else {
            return Ok(text);
        };
        // The secret's text is never part of an error: it may be the very value we protect.
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|_| {
            anyhow::anyhow!(
                "secret {} is not a JSON object, so `key = \"{key}\"` cannot be read from it",
                reference.aws_secret
            )
        })?;
        match json.get(key) {
            Some(serde_json::Value::String(value)) => Ok(value.clone()),
            Some(_) => anyhow::bail!(
                "field `{key}` of secret {} is not a string",
                reference.aws_secret
            ),
            None => anyhow::bail!("secret {} has no field `{key}`", reference.aws_secret),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str =
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:polygate/session-AbCdEf";

    struct Fixed(&'static str);

    #[async_trait]
    impl SecretResolver for Fixed {
        async fn secret_string(&self, arn: &str) -> anyhow::Result<String> {
            assert_eq!(arn, ARN);
            Ok(self.0.to_owned())
        }
    }

    #[derive(Deserialize)]
    struct Section {
        password: Secret,
    }

    fn parse(toml_text: &str) -> Result<Secret, toml::de::Error> {
        toml::from_str::<Section>(toml_text).map(|s| s.password)
    }

    #[test]
    fn a_key_takes_a_literal_or_a_table_referencing_an_arn() {
        assert_eq!(
            parse(r#"password = "hunter2""#).unwrap(),
            Secret::Value("hunter2".into())
        );
        let reference = parse(&format!(
            r#"password = {{ aws_secret = "{ARN}", key = "password" }}"#
        ))
        .unwrap();
        assert_eq!(
            reference,
            Secret::Aws(AwsSecretRef {
                aws_secret: ARN.into(),
                key: Some("password".into())
            })
        );
        reference.check().unwrap();
        assert!(parse(&format!(r#"password = {{ aws_secert = "{ARN}" }}"#)).is_err());
    }

    #[test]
    fn an_arn_of_another_service_or_shape_is_refused() {
        for arn in [
            "arn:aws:ssm:eu-west-1:123456789012:parameter/x",
            "arn:aws:secretsmanager:eu-west-1:1234:secret:x",
            "arn:aws:secretsmanager::123456789012:secret:x",
            "polygate/session",
        ] {
            let secret = Secret::Aws(AwsSecretRef {
                aws_secret: arn.into(),
                key: None,
            });
            assert!(secret.check().is_err(), "{arn}");
        }
        let arn = SecretArn::parse(ARN).unwrap();
        assert_eq!(
            (arn.region, arn.name),
            ("eu-west-1", "polygate/session-AbCdEf")
        );
    }

    #[test]
    fn a_literal_never_shows_in_debug_output() {
        let text = format!("{:?}", Secret::Value("hunter2".into()));
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[tokio::test]
    async fn a_reference_resolves_to_the_whole_string_or_one_json_field() {
        let whole = Secret::Aws(AwsSecretRef {
            aws_secret: ARN.into(),
            key: None,
        });
        assert_eq!(whole.resolve(&Fixed("s3cret")).await.unwrap(), "s3cret");
        let field = Secret::Aws(AwsSecretRef {
            aws_secret: ARN.into(),
            key: Some("password".into()),
        });
        let json = Fixed(r#"{"username":"app","password":"s3cret"}"#);
        assert_eq!(field.resolve(&json).await.unwrap(), "s3cret");
        let missing = Secret::Aws(AwsSecretRef {
            aws_secret: ARN.into(),
            key: Some("token".into()),
        });
        let err = missing.resolve(&json).await.unwrap_err().to_string();
        assert!(err.contains("token") && !err.contains("s3cret"), "{err}");
        let err = field
            .resolve(&Fixed("s3cret"))
            .await
            .unwrap_err()
            .to_string();
        assert!(!err.contains("s3cret"), "{err}");
    }
}
