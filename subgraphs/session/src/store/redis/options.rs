//! How to reach a Redis beyond what its URL says: which certificate authorities a `rediss://`
//! server's certificate must chain to.
//!
//! Non-obvious decision: with no CA configured, TLS trusts the Mozilla roots compiled into the
//! binary (`webpki-roots`), not the host's store, so a container without `ca-certificates` still
//! verifies ElastiCache (its certificates chain to Amazon's public roots). A CA file replaces
//! those roots entirely: a private CA is trusted alone, never beside the public ones.

use redis::cluster::ClusterClientBuilder;
use redis::{
    Client, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisResult, TlsCertificates,
};

/// Options shared by the store's connection and the health task's per-node connections.
#[derive(Clone, Default)]
pub struct RedisOptions {
    /// PEM of the CA certificate(s) to trust for `rediss://`; `None` = the compiled-in roots.
    pub ca_pem: Option<Vec<u8>>,
}

impl RedisOptions {
    /// Options trusting the CA certificates in the PEM file at `path`.
    pub fn with_ca_file(path: &std::path::Path) -> std::io::Result<Self> {
        Ok(Self {
            ca_pem: Some(std::fs::read(path)?),
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
        let info: ConnectionInfo = info.into_connection_info()?;
        match self.certificates() {
            Some(certs) if matches!(info.addr(), ConnectionAddr::TcpTls { .. }) => {
                Client::build_with_tls(info, certs)
            }
            _ => Client::open(info),
        }
    }

    /// `builder` with the configured CA applied to every node (seeds and discovered ones).
    pub fn cluster(&self, builder: ClusterClientBuilder) -> ClusterClientBuilder {
        install_crypto_provider();
        match self.certificates() {
            Some(certs) => builder.certs(certs),
            None => builder,
        }
    }
}

/// Makes rustls's ring provider the process default unless one is set. rustls picks a default
/// by itself only when exactly one provider is compiled in; the gateway links both ring and
/// aws-lc-rs (through other crates), and rustls then refuses to guess.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another thread installing one is fine: a provider is set either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
