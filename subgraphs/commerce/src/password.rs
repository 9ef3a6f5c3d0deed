//! Argon2id password hashing off the async runtime.
//!
//! Non-obvious: the cost parameters are configurable so tests can use tiny ones; verifying always
//! uses the parameters recorded in the stored PHC string, so changing the defaults never locks
//! anyone out. Unknown emails are verified against a dummy hash with the same cost, so a failed
//! sign-in takes about as long whether or not the email exists.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{self, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};

use crate::domain::{Password, PasswordHash};

/// Hashing failed or a stored hash is unreadable.
#[derive(Debug, Clone, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes and verifies passwords with argon2id; cheap to clone.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    dummy: Arc<OnceLock<String>>,
}

impl Default for PasswordHasher {
    /// OWASP's recommended argon2id cost: m = 19456 KiB, t = 2, p = 1.
    fn default() -> Self {
        Self::new(Params::new(19_456, 2, 1, None).expect("OWASP argon2 parameters are valid"))
    }
}

impl PasswordHasher {
    pub fn new(params: Params) -> Self {
        Self {
            params,
            dummy: Arc::default(),
        }
    }

    /// The smallest cost argon2 accepts. Only for tests: it offers no real protection.
    pub fn insecure_fast_for_tests() -> Self {
        Self::new(Params::new(Params::MIN_M_COST, 1, 1, None).expect("minimum params are valid"))
    }

    fn argon2(params: Params) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }

    fn hash_blocking(params: Params, password: &str) -> Result<String, HashError> {
        let salt = SaltString::generate(&mut OsRng);
        Self::argon2(params)
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| HashError(e.to_string()))
    }

    fn verify_blocking(password: &str, phc: &str) -> Result<bool, HashError> {
        let parsed = password_hash::PasswordHash::new(phc).map_err(|e| HashError(e.to_string()))?;
        match Argon2::default().verify_password(password.as_bytes(), &parsed) {
            Ok(()) => Ok(true),
            Err(password_hash::Error::Password) => Ok(false),
            Err(e) => Err(HashError(e.to_string())),
        }
    }

    /// Hashes `password` with a fresh random salt.
    pub async fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        let params = self.params.clone();
        let password = password.clone();
        blocking(move || Self::hash_blocking(params, password.expose()))
            .await
            .map(PasswordHash::from_phc)
    }

    /// Whether `password` matches `hash`.
    pub async fn verify(&self, password: &str, hash: &PasswordHash) -> Result<bool, HashError> {
        let password = password.to_owned();
        let phc = hash.as_str().to_owned();
        blocking(move || Self::verify_blocking(&password, &phc)).await
    }

    /// Spends the time of one verification and always fails; for unknown emails.
    pub async fn verify_dummy(&self, password: &str) -> Result<bool, HashError> {
        let (params, dummy) = (self.params.clone(), self.dummy.clone());
        let password = password.to_owned();
        blocking(move || {
            let phc = match dummy.get() {
                Some(phc) => phc.clone(),
                None => {
                    let phc = Self::hash_blocking(params, "polygate-dummy-password")?;
                    dummy.get_or_init(|| phc).clone()
                }
            };
            Self::verify_blocking(&password, &phc).map(|_| false)
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
) -> Result<T, HashError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| HashError(format!("hashing task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = PasswordHasher::insecure_fast_for_tests();
        let hash = hasher
            .hash(&Password::parse("correct horse").unwrap())
            .await
            .unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(hasher.verify("correct horse", &hash).await.unwrap());
        assert!(!hasher.verify("wrong horse", &hash).await.unwrap());
        assert!(!hasher.verify_dummy("correct horse").await.unwrap());
    }

    #[test]
    fn the_default_cost_is_owasps() {
        let params = PasswordHasher::default().params;
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (19_456, 2, 1)
        );
    }
}
