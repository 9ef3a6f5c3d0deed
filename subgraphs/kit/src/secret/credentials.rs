//! A store's credentials as keys of their own, each a [`Secret`], that replace what the store's
//! URL carries: the one rule every subgraph follows (commerce and telemetry `username` /
//! `password`, catalog `username` / `password`, org `user` / `password`, search `api_key`,
//! session `redis_username` / `redis_password`).
//!
//! Non-obvious decision: the URL stays a plain string and the credential is a key beside it,
//! rather than the URL itself being a [`Secret`]. Managed database secrets (RDS, Cloud SQL via
//! a rotation lambda, Atlas) hold `{"username", "password", "host", "port", "dbname"}` and rotate
//! the password alone, so `password = { aws_secret = "arn:…", key = "password" }` follows a
//! rotation without anyone writing a URL into the secret; the URL (host, database, TLS options)
//! stays reviewable in `polygate.toml`; and a store with several URLs (commerce's shards and
//! replicas) takes one credential for all of them. The value is put into the URL
//! percent-encoded, so a generated password with `@`, `:` or `/` cannot break it.

use super::{Secret, SecretResolver};

/// `url` with its user and/or password replaced by `username` / `password` (percent-encoded);
/// `None` keeps the URL's own. Errors name what is wrong, never the password.
pub fn with_credentials(
    url: &str,
    username: Option<&str>,
    password: Option<&str>,
) -> Result<String, String> {
    if username.is_none() && password.is_none() {
        return Ok(url.to_owned());
    }
    let mut parsed =
        url::Url::parse(url).map_err(|e| format!("cannot put credentials into the URL: {e}"))?;
    if !parsed.has_host() {
        return Err("cannot put credentials into a URL without a host".to_owned());
    }
    if let Some(username) = username {
        parsed
            .set_username(&percent_encoded(username))
            .map_err(|()| "this URL cannot carry a user name".to_owned())?;
    }
    if let Some(password) = password {
        parsed
            .set_password(Some(&percent_encoded(password)))
            .map_err(|()| "this URL cannot carry a password".to_owned())?;
    }
    Ok(parsed.into())
}

/// Every byte but RFC 3986's unreserved characters as `%XX`. The `url` crate's own encoding
/// (WHATWG) leaves `%` as it is, so a password holding `%` would be decoded into another one by
/// the driver; encoded here first, nothing is left for it to change.
fn percent_encoded(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() * 3);
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Checks an optional credential key for `validate`: the reference's shape, named by `key`.
pub fn check(key: &str, secret: Option<&Secret>) -> Result<(), crate::SettingsError> {
    match secret.map(Secret::check) {
        Some(Err(message)) => Err(crate::SettingsError::new(key, message)),
        _ => Ok(()),
    }
}

/// The value of an optional credential key, references read from `resolver`; an error names
/// `key` (and never the value).
pub async fn resolve(
    key: &str,
    secret: Option<&Secret>,
    resolver: &dyn SecretResolver,
) -> anyhow::Result<Option<String>> {
    let Some(secret) = secret else {
        return Ok(None);
    };
    let value = secret
        .resolve(resolver)
        .await
        .map_err(|e| crate::OpenError::at(key, "cannot read the secret", e))?;
    Ok(Some(value))
}

/// `url` with the `username` / `password` keys' values put in (see [`with_credentials`]),
/// references read from `resolver`; errors name the key.
pub async fn url_with_credentials(
    url: &str,
    username: Option<&Secret>,
    password: Option<&Secret>,
    resolver: &dyn SecretResolver,
) -> anyhow::Result<String> {
    let user = resolve("username", username, resolver).await?;
    let pass = resolve("password", password, resolver).await?;
    with_credentials(url, user.as_deref(), pass.as_deref()).map_err(|m| {
        let key = if pass.is_some() {
            "password"
        } else {
            "username"
        };
        crate::OpenError::at(key, "cannot sign in with it", anyhow::Error::msg(m))
    })
}

/// The resolver `secrets` need: [`default_resolver`] when one of them is a reference, else one
/// that is never asked (so settings with literals only make no AWS call, nor need credentials).
pub async fn resolver_for(secrets: &[Option<&Secret>]) -> Box<dyn SecretResolver> {
    if secrets.iter().any(|s| s.is_some_and(Secret::is_reference)) {
        default_resolver().await
    } else {
        Box::new(LiteralsOnly)
    }
}

/// The resolver for settings without references: never asked.
struct LiteralsOnly;

#[async_trait::async_trait]
impl SecretResolver for LiteralsOnly {
    async fn secret_string(&self, arn: &str) -> anyhow::Result<String> {
        anyhow::bail!("secret {arn} was not expected: no reference is configured")
    }
}

/// The resolver for settings that hold references: AWS Secrets Manager with the SDK's default
/// configuration (credentials chain, `AWS_ENDPOINT_URL`), or, in a build without the kit's
/// `aws` feature, one that says so. Literals never reach it.
pub async fn default_resolver() -> Box<dyn SecretResolver> {
    #[cfg(feature = "aws")]
    {
        Box::new(super::aws::AwsSecretsManager::from_env().await)
    }
    #[cfg(not(feature = "aws"))]
    {
        Box::new(NoSecretStore)
    }
}

/// Answers every lookup with "not built in".
#[cfg(not(feature = "aws"))]
struct NoSecretStore;

#[cfg(not(feature = "aws"))]
#[async_trait::async_trait]
impl SecretResolver for NoSecretStore {
    async fn secret_string(&self, arn: &str) -> anyhow::Result<String> {
        anyhow::bail!(
            "cannot read secret {arn}: this build has no AWS Secrets Manager client \
             (polygate-kit feature `aws`)"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_replace_the_urls_own_percent_encoded() {
        let url = "postgres://placeholder:old@db.internal:5432/commerce?sslmode=verify-full";
        let set = with_credentials(url, Some("app"), Some("p@ss:w/rd%?# é")).unwrap();
        assert_eq!(
            set,
            "postgres://app:p%40ss%3Aw%2Frd%25%3F%23%20%C3%A9@db.internal:5432/commerce\
             ?sslmode=verify-full"
        );
        let password_only = with_credentials("postgres://app@db/x", None, Some("s3cret")).unwrap();
        assert_eq!(password_only, "postgres://app:s3cret@db/x");
        assert_eq!(
            with_credentials("mongodb+srv://c.example.net/db", Some("u"), Some("p")).unwrap(),
            "mongodb+srv://u:p@c.example.net/db"
        );
        assert_eq!(
            with_credentials("anything", None, None).unwrap(),
            "anything"
        );
    }

    #[test]
    fn a_url_that_cannot_carry_credentials_is_refused_without_the_password() {
        for url in [
            "not a url",
            "unix:/run/postgresql",
            "mailto:ops@example.com",
        ] {
            let err = with_credentials(url, None, Some("hunter2")).unwrap_err();
            assert!(!err.contains("hunter2"), "{err}");
        }
    }
}
