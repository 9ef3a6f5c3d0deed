//! How to reach a Redis beyond what its URL says: which certificate authorities a `rediss://`
//! server's certificate must chain to, a user and password resolved at open (e.g. from AWS
//! Secrets Manager), or ElastiCache IAM tokens instead of a password.
//!
//! Non-obvious decision: with no CA configured, TLS trusts the Mozilla roots compiled into the
//! binary (`webpki-roots`), not the host's store, so a container without `ca-certificates` still
//! verifies ElastiCache (its certificates chain to Amazon's public roots). A CA file replaces
//! those roots entirely: a private CA is trusted alone, never beside the public ones.

use redis::aio::ConnectionManagerConfig;
use redis::cluster::ClusterClientBuilder;
use redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisResult,
    TlsCertificates,
};

use crate::iam::IamAuth;

/// Options shared by the store's connection and the health task's per-node connections.
#[derive(Clone, Default)]
pub struct RedisOptions {
    /// PEM of the CA certificate(s) to trust for `rediss://`; `None` = the compiled-in roots.
    pub ca_pem: Option<Vec<u8>>,
    /// The ACL user, instead of the URL's.
    pub username: Option<String>,
    /// The password, instead of the URL's.
    pub password: Option<String>,
    /// ElastiCache IAM: every connection authenticates with a fresh signed token (and
    /// re-authenticates before it expires); the user and password above are then not used.
    pub iam: Option<IamAuth>,
}

impl RedisOptions {
    /// Options trusting the CA certificates in the PEM file at `path`.
    pub fn with_ca_file(path: &std::path::Path) -> std::io::Result<Self> {
        Ok(Self {
            ca_pem: Some(std::fs::read(path)?),
            ..Self::default()
        })
    }

    fn certificates(&self) -> Option<TlsCertificates> {
        self.ca_pem.as_ref().map(|pem| TlsCertificates {
            client_tls: None,
            root_cert: Some(pem.clone()),
        })
    }

    /// A client for one server; a `rediss://` one verifies the server against the configured CA.
    pub fn client(&self, info: impl IntoConnectionInfo) -> RedisResult<Client> {
        install_crypto_provider();
        let mut info: ConnectionInfo = info.into_connection_info()?;
        let mut settings = info.redis_settings().clone();
        if let Some(username) = &self.username {
            settings = settings.set_username(username);
        }
        if let Some(password) = &self.password {
            settings = settings.set_password(password);
        }
        info = info.set_redis_settings(settings);
        match self.certificates() {
            Some(certs) if matches!(info.addr(), ConnectionAddr::TcpTls { .. }) => {
                Client::build_with_tls(info, certs)
            }
            _ => Client::open(info),
        }
    }

    /// `builder` with the configured CA, credentials and IAM auth applied to every node (seeds
    /// and discovered ones).
    pub fn cluster(&self, builder: ClusterClientBuilder) -> ClusterClientBuilder {
        install_crypto_provider();
        let mut builder = match self.certificates() {
            Some(certs) => builder.certs(certs),
            None => builder,
        };
        if let Some(username) = &self.username {
            builder = builder.username(username.clone());
        }
        if let Some(password) = &self.password {
            builder = builder.password(password.clone());
        }
        match &self.iam {
            Some(iam) => builder.set_credentials_provider(iam.clone()),
            None => builder,
        }
    }

    /// The store's standalone connection settings with IAM auth, if configured.
    pub fn manager(&self, config: ConnectionManagerConfig) -> ConnectionManagerConfig {
        match &self.iam {
            Some(iam) => config.set_credentials_provider(iam.clone()),
            None => config,
        }
    }

    /// A plain connection's settings with IAM auth, if configured.
    pub fn connection(&self, config: AsyncConnectionConfig) -> AsyncConnectionConfig {
        match &self.iam {
            Some(iam) => config.set_credentials_provider(iam.clone()),
            None => config,
        }
    }
}

pub use polygate_kit::tls::install_crypto_provider;
