//! The commerce subgraph as the gateway and its own binary see it: the `[subgraphs.commerce]`
//! settings, opening the store topology behind its product cache, and the background work and
//! demo data that come with it.
//!
//! Non-obvious: sign-in needs the session store, which commerce does not own. `login` issues
//! tokens through the kit's `SessionIssuer` capability, taken from whichever subgraph provides it
//! in this process (the session subgraph, opened before commerce in the gateway's registry) or,
//! in `polygate-commerce serve`, from the session service at `[subgraphs.session] url`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use polygate_kit::auth::SessionIssuer;
use polygate_kit::config::{EMBEDDED, check_store, redact};
use polygate_kit::secret::{Secret, SecretResolver, credentials};
use polygate_kit::{
    BackgroundTask, CapabilityId, DemoSeed, OpenContext, OpenError, Opened, Placement, SeedReport,
    SettingsError, Subgraph, SubgraphSchema,
};
use serde::{Deserialize, Serialize};

use crate::payments::{FAKE_PROVIDER, FakeProvider, PaymentProvider};
use crate::upkeep::UpkeepSettings;
use crate::{CommerceStore, PasswordHasher, StoreSettings};

/// The commerce subgraph, for the gateway's registry and `polygate-commerce`.
pub struct Commerce;

/// `[subgraphs.commerce]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommerceSettings {
    /// `embedded` (SQLite at `<data_dir>/commerce.db`), or the catalog database's URL
    /// (`postgres://…`), also the first shard home.
    pub store: String,
    /// A streaming replica of `store` for reads that tolerate lag.
    pub replica: Option<String>,
    /// Further shard databases, name → `postgres://…`.
    pub shards: BTreeMap<String, String>,
    /// Replicas of shard databases, name → `postgres://…`.
    pub shard_replicas: BTreeMap<String, String>,
    /// The user every Postgres URL above signs in as (store, replica, shards, shard replicas),
    /// instead of the one in each URL: a literal or `{ aws_secret = "arn:…", key = "username" }`
    /// (AWS Secrets Manager, read at open). Unset: each URL's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<Secret>,
    /// The password of every Postgres URL above, instead of the one in each URL (put in
    /// percent-encoded): a literal or `{ aws_secret = "arn:…", key = "password" }` (AWS Secrets
    /// Manager, read at open; an RDS-style JSON secret's `password` field). Unset: each URL's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// Per shard database, name → its password (literal or reference), instead of `password`
    /// for that shard and its replica (a replica has its primary's roles): each Cloud SQL
    /// instance gets a password of its own (`infra/modules/cloudsql`).
    pub shard_passwords: BTreeMap<String, Secret>,
    /// Product cache: `embedded` (in-process memory), `redis://…`, `rediss://…`,
    /// `redis-cluster://…`, `rediss-cluster://…` or `off`.
    pub cache: String,
    /// The Postgres URLs lead to PgBouncer in transaction pooling mode: connections work in
    /// transactions without a statement cache, and the in-process upkeep is off (run
    /// `polygate-commerce maintain` with direct URLs instead). The pooler must run
    /// `server_reset_query = DEALLOCATE ALL` with `server_reset_query_always = 1`.
    pub transaction_pooler: bool,
    /// How often abandoned order requests are finished, and how old they must be.
    pub sweep_every_secs: u64,
    /// The payment provider `payOrder` and `refundOrder` use: `fake` (the only one so far; it
    /// approves `tok_visa`, declines `tok_chargeDeclined`, see `payments/fake.rs`).
    pub payment_provider: String,
    /// How often the upkeep runs (partitions ahead and detached, settled rows archived, stock
    /// counters checked); one process of the fleet does it (an advisory-lock leader).
    pub maintenance_every_secs: u64,
    /// Months of order partitions made ahead of the current one (time to notice a stopped
    /// scheduler before an insert lands in DEFAULT).
    pub premake_months: u32,
    /// Months of orders kept attached; older months are detached (kept as tables for export).
    pub retain_months: u32,
    /// Days after its order that a settled order request or reservation, or a final payment,
    /// moves to its archive; an idempotency key is remembered at least this long.
    pub archive_after_days: u32,
}

impl Default for CommerceSettings {
    fn default() -> Self {
        Self {
            store: EMBEDDED.to_owned(),
            replica: None,
            shards: BTreeMap::new(),
            shard_replicas: BTreeMap::new(),
            username: None,
            password: None,
            shard_passwords: BTreeMap::new(),
            cache: EMBEDDED.to_owned(),
            transaction_pooler: false,
            sweep_every_secs: 30,
            payment_provider: FAKE_PROVIDER.to_owned(),
            maintenance_every_secs: 3600,
            premake_months: 3,
            retain_months: 12,
            archive_after_days: 30,
        }
    }
}

const POSTGRES: [&str; 2] = ["postgres", "postgresql"];

impl CommerceSettings {
    /// The upkeep these settings ask for.
    pub fn upkeep(&self) -> UpkeepSettings {
        UpkeepSettings {
            every: Duration::from_secs(self.maintenance_every_secs),
            premake_months: self.premake_months,
            retain_months: self.retain_months,
            archive_after_days: self.archive_after_days,
        }
    }

    /// The store settings these name, embedded files under `data_dir`.
    pub fn store_settings(&self, data_dir: &std::path::Path) -> StoreSettings {
        StoreSettings {
            url: if self.store == EMBEDDED {
                format!("sqlite://{}", data_dir.join("commerce.db").display())
            } else {
                self.store.clone()
            },
            replica: self.replica.clone(),
            shards: self.shards.clone(),
            shard_replicas: self.shard_replicas.clone(),
            cache: if self.cache == EMBEDDED {
                "memory".to_owned()
            } else {
                self.cache.clone()
            },
            transaction_pooler: self.transaction_pooler,
        }
    }

    /// [`Self::store_settings`] with `username` / `password` put into every Postgres URL; a
    /// reference is read from AWS Secrets Manager (only when one is used).
    pub async fn resolved_store_settings(
        &self,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<StoreSettings> {
        let mut secrets = vec![self.username.as_ref(), self.password.as_ref()];
        secrets.extend(self.shard_passwords.values().map(Some));
        let resolver = credentials::resolver_for(&secrets).await;
        self.store_settings_with(data_dir, resolver.as_ref()).await
    }

    /// [`Self::store_settings`] with `username` / `password` read through `resolver` and put
    /// into every Postgres URL (the catalog database, its replica, every shard and shard
    /// replica: one application role, which a Cloud SQL replica copies from its primary and
    /// which the shards' instances are given alike).
    pub async fn store_settings_with(
        &self,
        data_dir: &std::path::Path,
        resolver: &dyn SecretResolver,
    ) -> anyhow::Result<StoreSettings> {
        let mut settings = self.store_settings(data_dir);
        let username = credentials::resolve("username", self.username.as_ref(), resolver).await?;
        let password = credentials::resolve("password", self.password.as_ref(), resolver).await?;
        let mut shard_passwords = BTreeMap::new();
        for (name, secret) in &self.shard_passwords {
            let key = format!("shard_passwords.{name}");
            let value = credentials::resolve(&key, Some(secret), resolver).await?;
            shard_passwords.insert(name.clone(), value);
        }
        let user = username.as_deref();
        let set = |key: &str, url: &mut String, pass: Option<&str>| -> anyhow::Result<()> {
            *url = credentials::with_credentials(url, user, pass)
                .map_err(|m| OpenError::at(key, "cannot sign in with it", anyhow::Error::msg(m)))?;
            Ok(())
        };
        set("store", &mut settings.url, password.as_deref())?;
        if let Some(replica) = settings.replica.as_mut() {
            set("replica", replica, password.as_deref())?;
        }
        for (section, urls) in [
            ("shards", &mut settings.shards),
            ("shard_replicas", &mut settings.shard_replicas),
        ] {
            for (name, url) in urls.iter_mut() {
                let own = shard_passwords.get(name).cloned().flatten();
                let pass = own.as_deref().or(password.as_deref());
                set(&format!("{section}.{name}"), url, pass)?;
            }
        }
        Ok(settings)
    }
}

#[async_trait(?Send)]
impl Subgraph for Commerce {
    type Settings = CommerceSettings;
    const NAME: &'static str = crate::NAME;
    const DEFAULT_PORT: u16 = 4001;

    /// `login` issues tokens into the session store.
    fn needs() -> Vec<CapabilityId> {
        vec![CapabilityId::of::<dyn SessionIssuer>()]
    }

    fn sdl() -> String {
        crate::sdl()
    }

    fn validate(c: &CommerceSettings, _remote: bool) -> Result<(), SettingsError> {
        let at = |key: &'static str| move |m: String| SettingsError::new(key, m);
        check_store(&c.store, &["sqlite", "postgres", "postgresql"]).map_err(at("store"))?;
        if let Some(replica) = &c.replica {
            check_store(replica, &POSTGRES).map_err(at("replica"))?;
        }
        for (section, urls) in [("shards", &c.shards), ("shard_replicas", &c.shard_replicas)] {
            for (name, url) in urls {
                let key = format!("{section}.{name}");
                if url == EMBEDDED {
                    return Err(SettingsError::new(key, "must be a postgres:// URL"));
                }
                check_store(url, &POSTGRES).map_err(|m| SettingsError::new(key, m))?;
            }
        }
        if (c.replica.is_some() || !c.shards.is_empty()) && !c.store.starts_with("postgres") {
            return Err(SettingsError::new(
                "store",
                "must be a postgres:// URL when replica or shards are set",
            ));
        }
        check_store(
            &c.cache,
            &[
                "redis",
                "rediss",
                "redis-cluster",
                "rediss-cluster",
                "memory",
                "off",
            ],
        )
        .map_err(at("cache"))?;
        if c.sweep_every_secs == 0 {
            return Err(SettingsError::new(
                "sweep_every_secs",
                "must be greater than 0",
            ));
        }
        if c.transaction_pooler && !c.store.starts_with("postgres") {
            return Err(SettingsError::new(
                "transaction_pooler",
                "needs a postgres:// store (it describes the URLs of one)",
            ));
        }
        if c.maintenance_every_secs == 0 {
            return Err(SettingsError::new(
                "maintenance_every_secs",
                "must be greater than 0",
            ));
        }
        if c.premake_months == 0 || c.premake_months > 120 {
            return Err(SettingsError::new(
                "premake_months",
                "must be between 1 and 120",
            ));
        }
        if c.retain_months == 0 {
            return Err(SettingsError::new("retain_months", "must be at least 1"));
        }
        if c.archive_after_days == 0 {
            return Err(SettingsError::new(
                "archive_after_days",
                "must be at least 1",
            ));
        }
        for (name, secret) in &c.shard_passwords {
            let key = format!("shard_passwords.{name}");
            if !c.shards.contains_key(name) {
                return Err(SettingsError::new(key, "names no database under `shards`"));
            }
            credentials::check(&key, Some(secret))?;
        }
        for (key, secret) in [("username", &c.username), ("password", &c.password)] {
            credentials::check(key, secret.as_ref())?;
            if secret.is_some() && !c.store.starts_with("postgres") {
                return Err(SettingsError::new(
                    key,
                    "needs a postgres:// store (it replaces the credentials of its URLs)",
                ));
            }
        }
        if c.payment_provider != FAKE_PROVIDER {
            return Err(SettingsError::new(
                "payment_provider",
                format!("must be {FAKE_PROVIDER:?} (no other provider is built in yet)"),
            ));
        }
        Ok(())
    }

    fn embedded(settings: &CommerceSettings) -> bool {
        settings.store == EMBEDDED
    }

    async fn open(settings: &CommerceSettings, ctx: OpenContext) -> anyhow::Result<Opened> {
        let store_settings = settings.resolved_store_settings(&ctx.data_dir).await?;
        let opened = crate::open(&store_settings).await.map_err(|e| {
            OpenError::at(
                "store",
                format!("cannot open `{}`", redact(&store_settings.url)),
                e,
            )
        })?;
        let mut tasks = crate::background_tasks(
            &opened,
            Duration::from_secs(settings.sweep_every_secs),
            settings.upkeep(),
        );
        let store = opened.store;
        let hasher = PasswordHasher::default();
        // The fake provider calls back in-process; a real one would post to a webhook route.
        let (provider, callbacks) = FakeProvider::with_callbacks();
        tasks.push(BackgroundTask::new(
            "commerce/payment-callbacks",
            crate::payments::run_callbacks(store.clone(), callbacks),
        ));
        let provider: Arc<dyn PaymentProvider> = Arc::new(provider);
        let schema = (ctx.placement != Placement::Remote).then(|| {
            let issuer = ctx.capabilities.get::<dyn SessionIssuer>();
            let schema =
                crate::schema_with_provider(store.clone(), issuer, hasher.clone(), provider);
            Arc::new(schema) as Arc<dyn SubgraphSchema>
        });
        Ok(Opened {
            schema,
            probes: vec![crate::probe(store.clone())],
            tasks,
            seed: Some(Arc::new(CommerceSeed { store, hasher })),
        })
    }
}

/// The demo accounts and catalog (`seed.rs`).
struct CommerceSeed {
    store: Arc<dyn CommerceStore>,
    hasher: PasswordHasher,
}

#[async_trait]
impl DemoSeed for CommerceSeed {
    async fn seed(&self) -> anyhow::Result<SeedReport> {
        let report = crate::seed_demo(self.store.as_ref(), &self.hasher).await?;
        Ok(SeedReport {
            created: report.created.len(),
            what: "users",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(edit: impl FnOnce(&mut CommerceSettings)) -> CommerceSettings {
        let mut settings = CommerceSettings::default();
        edit(&mut settings);
        settings
    }

    #[test]
    fn a_bad_shard_or_replica_url_is_refused_by_its_key() {
        let bad_shard = settings(|c| {
            c.store = "postgres://db/a".into();
            c.shards.insert("b".into(), "redis://db2".into());
        });
        assert_eq!(
            Commerce::validate(&bad_shard, false).unwrap_err().key,
            "shards.b"
        );
        let replica_without_postgres = settings(|c| c.replica = Some("postgres://r/a".into()));
        assert_eq!(
            Commerce::validate(&replica_without_postgres, false)
                .unwrap_err()
                .key,
            "store"
        );
    }

    #[test]
    fn a_malformed_store_url_names_the_key_and_hides_the_password() {
        let err = Commerce::validate(
            &settings(|c| c.store = "mysql://u:secret@db/x".into()),
            false,
        )
        .unwrap_err();
        assert_eq!(err.key, "store");
        assert!(!err.message.contains("secret"), "{err}");
    }

    #[test]
    fn upkeep_settings_are_checked_by_their_key() {
        let cases: [(&str, CommerceSettings); 5] = [
            (
                "maintenance_every_secs",
                settings(|c| c.maintenance_every_secs = 0),
            ),
            ("premake_months", settings(|c| c.premake_months = 0)),
            ("retain_months", settings(|c| c.retain_months = 0)),
            ("archive_after_days", settings(|c| c.archive_after_days = 0)),
            (
                "payment_provider",
                settings(|c| c.payment_provider = "stripe".into()),
            ),
        ];
        for (key, bad) in cases {
            assert_eq!(Commerce::validate(&bad, false).unwrap_err().key, key);
        }
        let upkeep = CommerceSettings::default().upkeep();
        assert_eq!(upkeep, UpkeepSettings::default(), "one set of defaults");
    }

    #[test]
    fn credentials_are_checked_by_their_key() {
        let bad_arn = settings(|c| {
            c.store = "postgres://db/a".into();
            c.password = Some(Secret::Aws(polygate_kit::secret::AwsSecretRef {
                aws_secret: "polygate/commerce".into(),
                key: Some("password".into()),
            }));
        });
        let err = Commerce::validate(&bad_arn, false).unwrap_err();
        assert_eq!(err.key, "password");
        assert!(err.message.contains("ARN"), "{err}");
        let unknown_shard = settings(|c| {
            c.store = "postgres://db/a".into();
            c.shard_passwords
                .insert("z".into(), Secret::Value("pw".into()));
        });
        assert_eq!(
            Commerce::validate(&unknown_shard, false).unwrap_err().key,
            "shard_passwords.z"
        );
        let embedded = settings(|c| c.username = Some(Secret::Value("app".into())));
        assert_eq!(
            Commerce::validate(&embedded, false).unwrap_err().key,
            "username"
        );
        let text = r#"
            store = "postgres://db/a"
            password = { aws_secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf", key = "password" }
        "#;
        let parsed: CommerceSettings = toml::from_str(text).unwrap();
        Commerce::validate(&parsed, false).unwrap();
        assert!(parsed.password.as_ref().unwrap().is_reference());
    }

    #[tokio::test]
    async fn credentials_go_into_every_postgres_url_percent_encoded() {
        let given = settings(|c| {
            c.store = "postgres://placeholder@cat:5432/commerce?sslmode=verify-full".into();
            c.replica = Some("postgres://cat-replica/commerce".into());
            c.shards
                .insert("b".into(), "postgres://old:pw@b/commerce".into());
            c.shard_replicas
                .insert("b".into(), "postgres://b-replica/commerce".into());
            c.shards.insert("c".into(), "postgres://c/commerce".into());
            c.username = Some(Secret::Value("app".into()));
            c.password = Some(Secret::Value("p@ss/w%rd".into()));
            c.shard_passwords
                .insert("c".into(), Secret::Value("c-own".into()));
        });
        let resolved = given
            .resolved_store_settings(std::path::Path::new("/srv"))
            .await
            .unwrap();
        let userinfo = "app:p%40ss%2Fw%25rd@";
        assert_eq!(
            resolved.url,
            format!("postgres://{userinfo}cat:5432/commerce?sslmode=verify-full")
        );
        assert_eq!(
            resolved.replica.as_deref(),
            Some(format!("postgres://{userinfo}cat-replica/commerce").as_str())
        );
        assert_eq!(
            resolved.shards["b"],
            format!("postgres://{userinfo}b/commerce")
        );
        assert_eq!(
            resolved.shard_replicas["b"],
            format!("postgres://{userinfo}b-replica/commerce")
        );
        assert_eq!(resolved.shards["c"], "postgres://app:c-own@c/commerce");
        // Without credential keys, every URL is as written.
        let plain = settings(|c| c.store = "postgres://u:own@cat/commerce".into());
        let kept = plain
            .resolved_store_settings(std::path::Path::new("/srv"))
            .await
            .unwrap();
        assert_eq!(kept.url, "postgres://u:own@cat/commerce");
    }

    #[test]
    fn the_embedded_store_is_a_file_under_the_data_folder() {
        let store = CommerceSettings::default().store_settings(std::path::Path::new("/srv/data"));
        assert_eq!(store.url, "sqlite:///srv/data/commerce.db");
        assert_eq!(store.cache, "memory");
    }
}
