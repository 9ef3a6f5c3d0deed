//! The session subgraph as the gateway and its own binary see it: the `[subgraphs.session]`
//! settings, and opening the store with what it lends the others.
//!
//! Non-obvious: the session store is opened even when the subgraph runs as its own service
//! (it [provides](Subgraph::provides) the token verifier the gateway always needs), because the
//! gateway checks every bearer token in it and commerce's `login` issues tokens into it. Both go through kit capabilities (token verifier,
//! rate limiter, session issuer), and the validation cache sits inside them: a revocation served
//! by this process evicts its verdict at once.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use polygate_kit::auth::{RateLimiter, SessionIssuer, TokenVerifier};
use polygate_kit::config::{EMBEDDED, check_store, redact};
use polygate_kit::redis::CLUSTER_TLS_SCHEME;
use polygate_kit::secret::aws::AwsSecretsManager;
use polygate_kit::secret::{Secret, SecretResolver};
use polygate_kit::{
    BackgroundTask, CapabilityId, OpenContext, OpenError, Opened, Placement, SettingsError,
    Subgraph, SubgraphSchema,
};
use serde::{Deserialize, Serialize};

use crate::iam::{IamAuth, IamSettings};
use crate::store::redis::RedisOptions;
use crate::validation_cache::{CachingVerifier, EvictingStore, MAX_ENTRIES, ValidationCache};
use crate::{SessionAuth, SessionPolicy, SessionStore};

/// The session subgraph, for the gateway's registry and `polygate-session`.
pub struct Sessions;

/// `[subgraphs.session]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// `embedded` (an in-process TTL cache), `redis://…` or `redis-cluster://h1:p1,h2:p2,…`;
    /// over TLS (ElastiCache with encryption in transit) `rediss://…` or
    /// `rediss-cluster://h1:p1,…`.
    pub store: String,
    /// With a `rediss://` store: a PEM file of the CA(s) the server's certificate must chain to,
    /// trusted instead of the compiled-in public roots; empty = the public roots (ElastiCache).
    pub redis_tls_ca_file: String,
    /// The Redis ACL user, instead of the one in the URL: a literal or
    /// `{ aws_secret = "arn:…", key = "username" }` (AWS Secrets Manager, read at open).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_username: Option<Secret>,
    /// The Redis password, instead of the one in the URL: a literal or
    /// `{ aws_secret = "arn:…", key = "password" }` (AWS Secrets Manager, read at open).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_password: Option<Secret>,
    /// ElastiCache IAM authentication (`{ user, cache, region, serverless }`): tokens signed with
    /// the default AWS credential chain replace the password. Needs a `rediss://` store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_iam: Option<IamSettings>,
    /// A session not used for this long ends (sliding).
    pub idle_timeout_secs: u64,
    /// A session ends this long after sign-in at the latest.
    pub absolute_lifetime_secs: u64,
    /// How long a token the store validated is trusted before asking again; 0 asks every time.
    /// At most half the idle timeout is used, so a session in use never idles out.
    pub validation_cache_ms: u64,
    /// Most live sessions one user holds; a sign-in past it ends the least recently used one.
    pub max_sessions_per_user: u32,
    /// With a Redis store: how often every node's `INFO` is read into `/metrics`; 0 = off.
    pub redis_health_interval_secs: u64,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            store: EMBEDDED.to_owned(),
            redis_tls_ca_file: String::new(),
            redis_username: None,
            redis_password: None,
            redis_iam: None,
            idle_timeout_secs: 30 * 60,
            absolute_lifetime_secs: 12 * 60 * 60,
            validation_cache_ms: 1_000,
            max_sessions_per_user: crate::store::DEFAULT_MAX_SESSIONS_PER_USER,
            redis_health_interval_secs: crate::store::redis::health::DEFAULT_INTERVAL.as_secs(),
        }
    }
}

impl SessionSettings {
    pub fn policy(&self) -> SessionPolicy {
        SessionPolicy {
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            absolute_lifetime: Duration::from_secs(self.absolute_lifetime_secs),
            max_sessions_per_user: self.max_sessions_per_user,
        }
    }

    /// `validation_cache_ms`, at most half the idle timeout (a cached verdict does not touch the
    /// session); `None` when the cache is off.
    pub fn validation_cache_ttl(&self) -> Option<Duration> {
        let ttl = Duration::from_millis(self.validation_cache_ms)
            .min(Duration::from_secs(self.idle_timeout_secs) / 2);
        (!ttl.is_zero()).then_some(ttl)
    }

    /// The Redis connection options these settings name: reads the CA file, resolves secret
    /// references (AWS Secrets Manager, only when one is used) and sets up IAM auth.
    pub async fn redis_options(&self) -> anyhow::Result<RedisOptions> {
        let mut options = match self.redis_tls_ca_file.trim() {
            "" => RedisOptions::default(),
            path => RedisOptions::with_ca_file(std::path::Path::new(path)).map_err(|e| {
                OpenError::at("redis_tls_ca_file", format!("cannot read `{path}`"), e)
            })?,
        };
        let secrets = [&self.redis_username, &self.redis_password];
        if secrets
            .iter()
            .any(|s| s.as_ref().is_some_and(Secret::is_reference))
        {
            self.resolve_credentials(&mut options, &AwsSecretsManager::from_env().await)
                .await?;
        } else {
            options.username = self.redis_username.as_ref().map(literal);
            options.password = self.redis_password.as_ref().map(literal);
        }
        if let Some(iam) = &self.redis_iam {
            options.iam = Some(IamAuth::from_env(iam.clone()).await?);
        }
        Ok(options)
    }

    /// Sets `options`' user and password from these settings, references read from `resolver`.
    pub async fn resolve_credentials(
        &self,
        options: &mut RedisOptions,
        resolver: &dyn SecretResolver,
    ) -> anyhow::Result<()> {
        options.username = resolve("redis_username", &self.redis_username, resolver).await?;
        options.password = resolve("redis_password", &self.redis_password, resolver).await?;
        Ok(())
    }

    fn store_url(&self) -> &str {
        if self.store == EMBEDDED {
            "memory"
        } else {
            &self.store
        }
    }
}

async fn resolve(
    key: &str,
    secret: &Option<Secret>,
    resolver: &dyn SecretResolver,
) -> anyhow::Result<Option<String>> {
    let Some(secret) = secret else {
        return Ok(None);
    };
    let value = secret
        .resolve(resolver)
        .await
        .map_err(|e| OpenError::at(key, "cannot read the secret", e))?;
    Ok(Some(value))
}

fn literal(secret: &Secret) -> String {
    match secret {
        Secret::Value(value) => value.clone(),
        Secret::Aws(_) => unreachable!("references are resolved"),
    }
}

#[async_trait(?Send)]
impl Subgraph for Sessions {
    type Settings = SessionSettings;
    const NAME: &'static str = crate::NAME;
    const DEFAULT_PORT: u16 = 4002;

    fn provides() -> Vec<CapabilityId> {
        vec![
            CapabilityId::of::<dyn TokenVerifier>(),
            CapabilityId::of::<dyn RateLimiter>(),
            CapabilityId::of::<dyn SessionIssuer>(),
        ]
    }

    fn sdl() -> String {
        crate::sdl()
    }

    fn validate(settings: &SessionSettings, remote: bool) -> Result<(), SettingsError> {
        check_store(
            &settings.store,
            &[
                "redis",
                "redis-cluster",
                "rediss",
                "rediss-cluster",
                "memory",
            ],
        )
        .map_err(|m| SettingsError::new("store", m))?;
        if remote && matches!(settings.store_url(), "memory") {
            return Err(SettingsError::new(
                "store",
                "must be a shared store (redis://, rediss://, redis-cluster:// or \
                 rediss-cluster://) when subgraphs.session.url \
                 is set: the gateway checks tokens in the same store the session service writes",
            ));
        }
        for (key, secret) in [
            ("redis_username", &settings.redis_username),
            ("redis_password", &settings.redis_password),
        ] {
            if let Some(secret) = secret {
                secret.check().map_err(|m| SettingsError::new(key, m))?;
            }
        }
        if let Some(iam) = &settings.redis_iam {
            iam.check()
                .map_err(|(key, m)| SettingsError::new(format!("redis_iam.{key}"), m))?;
            if !settings.store.starts_with("rediss://")
                && !settings.store.starts_with(CLUSTER_TLS_SCHEME)
            {
                return Err(SettingsError::new(
                    "redis_iam",
                    "ElastiCache IAM authentication needs TLS: use a rediss:// or \
                     rediss-cluster:// store",
                ));
            }
            if settings.redis_password.is_some() {
                return Err(SettingsError::new(
                    "redis_password",
                    "set either redis_password or redis_iam, not both",
                ));
            }
        }
        for (key, secs) in [
            ("idle_timeout_secs", settings.idle_timeout_secs),
            ("absolute_lifetime_secs", settings.absolute_lifetime_secs),
        ] {
            if secs == 0 {
                return Err(SettingsError::new(key, "must be greater than 0"));
            }
        }
        let cap = crate::store::MAX_SESSIONS_PER_USER_LIMIT;
        if !(1..=cap).contains(&settings.max_sessions_per_user) {
            return Err(SettingsError::new(
                "max_sessions_per_user",
                format!("must be within 1..={cap}"),
            ));
        }
        Ok(())
    }

    fn embedded(settings: &SessionSettings) -> bool {
        settings.store_url() == "memory"
    }

    async fn open(settings: &SessionSettings, ctx: OpenContext) -> anyhow::Result<Opened> {
        let url = settings.store_url();
        let options = settings.redis_options().await?;
        let raw = crate::connect_with(url, settings.policy(), &options)
            .await
            .map_err(|e| OpenError::at("store", format!("cannot open `{}`", redact(url)), e))?;
        let probe = crate::probe(raw.clone());
        // With the validation cache on, every revocation this process serves (`logout`,
        // `revokeSession`, `revokeAllSessions`) goes through a store that evicts what it revokes.
        let cache = settings
            .validation_cache_ttl()
            .map(|ttl| Arc::new(ValidationCache::new(ttl, MAX_ENTRIES)));
        let store: Arc<dyn SessionStore> = match &cache {
            Some(cache) => Arc::new(EvictingStore::new(raw, cache.clone())),
            None => raw,
        };
        let auth = Arc::new(SessionAuth(store.clone()));
        let verifier: Arc<dyn TokenVerifier> = match cache {
            Some(cache) => Arc::new(CachingVerifier::new(auth.clone(), cache)),
            None => auth.clone(),
        };
        ctx.capabilities.provide::<dyn TokenVerifier>(verifier);
        ctx.capabilities.provide::<dyn RateLimiter>(auth.clone());
        ctx.capabilities.provide::<dyn SessionIssuer>(auth);
        let mut tasks = Vec::new();
        // A gateway that only checks tokens in the store leaves its health to the service.
        if ctx.placement != Placement::Remote && settings.redis_health_interval_secs > 0 {
            let every = Duration::from_secs(settings.redis_health_interval_secs);
            if let Some(health) = crate::store::redis::health::task(url, every, &options)? {
                tasks.push(BackgroundTask::new("session/redis-health", health));
            }
        }
        let schema = (ctx.placement != Placement::Remote)
            .then(|| Arc::new(crate::schema(store)) as Arc<dyn SubgraphSchema>);
        Ok(Opened {
            schema,
            probes: vec![probe],
            tasks,
            seed: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_session_service_needs_a_shared_store() {
        let err = Sessions::validate(&SessionSettings::default(), true).unwrap_err();
        assert_eq!(err.key, "store");
        let shared = SessionSettings {
            store: "redis://cache:6379".into(),
            ..SessionSettings::default()
        };
        Sessions::validate(&shared, true).unwrap();
    }

    #[test]
    fn the_validation_cache_is_at_most_half_the_idle_timeout_and_zero_switches_it_off() {
        let settings = SessionSettings {
            idle_timeout_secs: 1,
            validation_cache_ms: 5_000,
            ..SessionSettings::default()
        };
        assert_eq!(
            settings.validation_cache_ttl(),
            Some(Duration::from_millis(500))
        );
        let off = SessionSettings {
            validation_cache_ms: 0,
            ..SessionSettings::default()
        };
        assert_eq!(off.validation_cache_ttl(), None);
    }

    #[test]
    fn tls_stores_standalone_and_cluster_are_accepted() {
        for store in [
            "rediss://cache.example.com:6379",
            "rediss://user:secret@cache.example.com:6379/0",
            "rediss-cluster://cfg.cache.example.com:6379",
            "rediss-cluster://u:p@node-1:6379,node-2:6379",
        ] {
            let settings = SessionSettings {
                store: store.into(),
                ..SessionSettings::default()
            };
            Sessions::validate(&settings, true).unwrap_or_else(|e| panic!("{store}: {e}"));
        }
    }

    #[test]
    fn secrets_and_iam_settings_are_checked_by_their_key() {
        let text = r#"
            store = "rediss://master.polygate-sessions.abc.euw1.cache.amazonaws.com:6379"
            redis_username = "polygate-session"
            redis_iam = { user = "polygate-session", cache = "polygate-sessions", region = "eu-west-1" }
        "#;
        let settings: SessionSettings = toml::from_str(text).unwrap();
        Sessions::validate(&settings, true).unwrap();
        let plain = SessionSettings {
            store: "redis://cache:6379".into(),
            ..settings.clone()
        };
        assert_eq!(
            Sessions::validate(&plain, true).unwrap_err().key,
            "redis_iam"
        );
        let both = SessionSettings {
            redis_password: Some(Secret::Value("x".into())),
            ..settings.clone()
        };
        assert_eq!(
            Sessions::validate(&both, true).unwrap_err().key,
            "redis_password"
        );
        let bad_arn: SessionSettings = toml::from_str(
            r#"redis_password = { aws_secret = "arn:aws:ssm:eu-west-1:123456789012:parameter/x" }"#,
        )
        .unwrap();
        assert_eq!(
            Sessions::validate(&bad_arn, false).unwrap_err().key,
            "redis_password"
        );
    }

    #[test]
    fn a_store_of_another_kind_is_refused_by_its_key() {
        let settings = SessionSettings {
            store: "postgres://db/x".into(),
            ..SessionSettings::default()
        };
        assert_eq!(
            Sessions::validate(&settings, false).unwrap_err().key,
            "store"
        );
    }
}
