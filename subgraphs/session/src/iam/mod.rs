//! ElastiCache IAM authentication: instead of a long-lived password, the session store sends
//! `AUTH <user> <token>`, where the token is a SigV4-presigned `GET http://<cache>/?Action=connect
//! &User=<user>` (plus `ResourceType=ServerlessCache` for a serverless cache) for the service
//! `elasticache`, valid 15 minutes, signed with credentials from the default AWS chain — the
//! scheme ElastiCache documents for Redis OSS 7+ / Valkey.
//!
//! Tokens reach the `redis` client through its streaming credentials provider: each connection
//! takes a fresh token when it connects (so every reconnect, e.g. after a failover, signs anew),
//! and re-sends `AUTH` with a newer one every [`REFRESH_EVERY`], before the last one expires;
//! ElastiCache drops IAM connections that do not re-authenticate within 12 hours.
//!
//! Non-obvious decision: tokens are signed lazily per connection from a [`Clock`] and a
//! [`CredentialSource`] rather than by one shared background refresher: signing is a few HMACs,
//! the SDK's credential provider already caches and refreshes the role's keys, and nothing can
//! hand a connection a token older than its own connect.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use futures::Stream;
use redis::auth::{BasicAuth, StreamingCredentialsProvider};
use redis::{ErrorKind, RedisError, RedisResult};
use serde::{Deserialize, Serialize};

pub mod sigv4;

pub use sigv4::AwsCredentials;

/// How long a token is valid (`X-Amz-Expires`), as ElastiCache requires.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// How often a live connection re-authenticates with a fresh token: 5 minutes of margin before
/// the previous one expires.
pub const REFRESH_EVERY: Duration = Duration::from_secs(10 * 60);
/// After failing to get credentials, how soon a live connection tries again.
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(10);

/// `[subgraphs.session.redis_iam]`: authenticate to ElastiCache with IAM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IamSettings {
    /// The IAM-enabled ElastiCache user; its user id and user name must be equal.
    pub user: String,
    /// The replication group id (or serverless cache name) the token is for, lower case.
    pub cache: String,
    /// The cache's AWS region.
    pub region: String,
    /// A serverless cache (adds `ResourceType=ServerlessCache` to the token).
    #[serde(default)]
    pub serverless: bool,
}

impl IamSettings {
    /// Names the bad key (`redis_iam.<key>`) or `None`.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        for (key, value) in [
            ("user", &self.user),
            ("cache", &self.cache),
            ("region", &self.region),
        ] {
            if value.trim().is_empty() {
                return Err((key, "must not be empty".to_owned()));
            }
        }
        if self.cache.chars().any(|c| c.is_ascii_uppercase()) {
            return Err((
                "cache",
                "must be lower case (ElastiCache signs the lower-cased id)".to_owned(),
            ));
        }
        Ok(())
    }
}

/// The time tokens are signed at.
pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;
}

/// The machine's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Where signing keys come from.
#[async_trait]
pub trait CredentialSource: Send + Sync {
    async fn credentials(&self) -> anyhow::Result<AwsCredentials>;
}

/// Fixed keys (tests, or keys given explicitly).
#[async_trait]
impl CredentialSource for AwsCredentials {
    async fn credentials(&self) -> anyhow::Result<AwsCredentials> {
        Ok(self.clone())
    }
}

/// The AWS SDK's provider (the default chain: environment, profile, web identity, ECS, IMDS),
/// which caches temporary credentials and refreshes them before they expire.
#[async_trait]
impl CredentialSource for SharedCredentialsProvider {
    async fn credentials(&self) -> anyhow::Result<AwsCredentials> {
        let keys = self
            .provide_credentials()
            .await
            .map_err(|e| anyhow::anyhow!("no AWS credentials for ElastiCache IAM auth: {e}"))?;
        Ok(AwsCredentials {
            access_key_id: keys.access_key_id().to_owned(),
            secret_access_key: keys.secret_access_key().to_owned(),
            session_token: keys.session_token().map(str::to_owned),
        })
    }
}

/// The IAM token for `settings`, signed with `credentials` at `now`: the presigned URL without
/// its `http://` scheme.
pub fn token(settings: &IamSettings, credentials: &AwsCredentials, now: SystemTime) -> String {
    let mut query = vec![("Action", "connect"), ("User", settings.user.as_str())];
    if settings.serverless {
        query.push(("ResourceType", "ServerlessCache"));
    }
    let host = settings.cache.to_ascii_lowercase();
    let request = sigv4::PresignRequest {
        host: &host,
        query: &query,
        region: &settings.region,
        service: "elasticache",
        expires_secs: TOKEN_LIFETIME.as_secs(),
        time: now,
    };
    format!("{host}/?{}", sigv4::presign(&request, credentials).query)
}

/// Streams `AUTH` credentials (user, fresh token) to every Redis connection.
#[derive(Clone)]
pub struct IamAuth {
    settings: IamSettings,
    source: Arc<dyn CredentialSource>,
    clock: Arc<dyn Clock>,
    refresh_every: Duration,
}

impl IamAuth {
    pub fn new(
        settings: IamSettings,
        source: Arc<dyn CredentialSource>,
        clock: Arc<dyn Clock>,
        refresh_every: Duration,
    ) -> Self {
        Self {
            settings,
            source,
            clock,
            refresh_every,
        }
    }

    /// With the default AWS credential chain and the machine's clock.
    pub async fn from_env(settings: IamSettings) -> anyhow::Result<Self> {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(settings.region.clone()))
            .load()
            .await;
        let provider = config.credentials_provider().ok_or_else(|| {
            anyhow::anyhow!("the AWS SDK found no credential provider for ElastiCache IAM auth")
        })?;
        Ok(Self::new(
            settings,
            Arc::new(provider),
            Arc::new(SystemClock),
            REFRESH_EVERY,
        ))
    }

    /// The user and a token signed now.
    pub async fn current(&self) -> anyhow::Result<BasicAuth> {
        let credentials = self.source.credentials().await?;
        let token = token(&self.settings, &credentials, self.clock.now());
        Ok(BasicAuth::new(self.settings.user.clone(), token))
    }
}

impl StreamingCredentialsProvider for IamAuth {
    fn subscribe(&self) -> Pin<Box<dyn Stream<Item = RedisResult<BasicAuth>> + Send + 'static>> {
        let auth = self.clone();
        // The first item is for the connect itself; later ones re-authenticate the connection.
        Box::pin(futures::stream::unfold(None, move |wait| {
            let auth = auth.clone();
            async move {
                if let Some(wait) = wait {
                    tokio::time::sleep(wait).await;
                }
                match auth.current().await {
                    Ok(credentials) => Some((Ok(credentials), Some(auth.refresh_every))),
                    Err(e) => {
                        let error = RedisError::from((
                            ErrorKind::AuthenticationFailed,
                            "cannot sign an ElastiCache IAM token",
                            format!("{e:#}"),
                        ));
                        Some((Err(error), Some(RETRY_AFTER_ERROR)))
                    }
                }
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::UNIX_EPOCH;

    use futures::StreamExt;

    use super::*;

    struct TestClock(Mutex<SystemTime>);

    impl Clock for TestClock {
        fn now(&self) -> SystemTime {
            *self.0.lock().unwrap()
        }
    }

    fn settings(serverless: bool) -> IamSettings {
        IamSettings {
            user: "polygate-session".into(),
            cache: "polygate-sessions".into(),
            region: "eu-west-1".into(),
            serverless,
        }
    }

    fn keys() -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    /// 2026-03-31T23:59:30Z: a month's last day, seconds before midnight.
    fn at() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_775_001_570)
    }

    #[test]
    fn a_token_is_a_presigned_connect_for_the_user_valid_fifteen_minutes() {
        let token = token(&settings(false), &keys(), at());
        let (host, query) = token.split_once("/?").unwrap();
        assert_eq!(host, "polygate-sessions");
        assert!(!token.starts_with("http"), "{token}");
        let params: Vec<&str> = query.split('&').collect();
        assert_eq!(
            params[..7],
            [
                "Action=connect",
                "User=polygate-session",
                "X-Amz-Algorithm=AWS4-HMAC-SHA256",
                "X-Amz-Credential=AKIDEXAMPLE%2F20260331%2Feu-west-1%2Felasticache%2Faws4_request",
                "X-Amz-Date=20260331T235930Z",
                "X-Amz-Expires=900",
                "X-Amz-SignedHeaders=host",
            ]
        );
        assert!(params[7].starts_with("X-Amz-Signature=") && params[7].len() == 16 + 64);
        assert!(!token.contains("ResourceType"));
        let serverless = super::token(&settings(true), &keys(), at());
        assert!(
            serverless.contains("&ResourceType=ServerlessCache&"),
            "{serverless}"
        );
    }

    #[test]
    fn a_token_depends_on_the_signing_time() {
        let a = token(&settings(false), &keys(), at());
        let b = token(&settings(false), &keys(), at() + Duration::from_secs(1));
        assert_ne!(a, b);
        assert_eq!(a, token(&settings(false), &keys(), at()));
    }

    #[tokio::test]
    async fn connections_get_a_fresh_token_every_refresh_interval() {
        let clock = Arc::new(TestClock(Mutex::new(at())));
        let refresh = Duration::from_millis(50);
        let auth = IamAuth::new(settings(false), Arc::new(keys()), clock.clone(), refresh);
        let mut stream = auth.subscribe();
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(first.username(), "polygate-session");
        assert_eq!(first.password(), token(&settings(false), &keys(), at()));
        let later = at() + REFRESH_EVERY;
        *clock.0.lock().unwrap() = later;
        let started = std::time::Instant::now();
        let second = stream.next().await.unwrap().unwrap();
        assert!(started.elapsed() >= refresh);
        assert_eq!(second.password(), token(&settings(false), &keys(), later));
        assert!(REFRESH_EVERY < TOKEN_LIFETIME);
    }

    #[test]
    fn settings_name_their_bad_key() {
        let mut bad = settings(false);
        bad.cache = "Polygate".into();
        assert_eq!(bad.check().unwrap_err().0, "cache");
        bad.user = " ".into();
        assert_eq!(bad.check().unwrap_err().0, "user");
    }
}
