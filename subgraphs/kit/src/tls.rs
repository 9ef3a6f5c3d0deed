//! The process's TLS crypto provider, for every driver built on rustls (redis, neo4rs, the
//! MongoDB driver, tonic for Qdrant, the AWS SDK).
//!
//! Non-obvious: rustls picks a provider by itself only when exactly one (ring or aws-lc-rs) is
//! compiled in. The gateway links both (through different drivers), and then any driver that
//! calls `rustls::ClientConfig::builder()` — redis for `rediss://`, neo4rs for `neo4j+s://` —
//! panics at its first TLS connect unless a process default was installed. So every process
//! installs ring's before it opens a store: [`crate::standalone`] does, and so must the gateway.

/// Makes ring the process's rustls provider unless one is installed. Idempotent; cheap.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another thread installing one is fine: a provider is set either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_default_provider_is_installed_and_a_second_call_is_harmless() {
        super::install_crypto_provider();
        super::install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
        let _ = rustls::ClientConfig::builder();
    }
}
