//! Automatic persisted queries (the APQ protocol of Apollo clients): a client sends
//! `extensions.persistedQuery.sha256Hash` without the query; an unknown hash answers
//! `PersistedQueryNotFound`, and the client sends hash and query once, which registers it. A
//! GET with only the hash is short and stable, so a CDN can cache it.
//!
//! Registered queries live in this process (bounded by bytes): a client whose next request
//! reaches another instance is told `PersistedQueryNotFound` once and registers there too,
//! which is the protocol's normal path.

use std::collections::HashMap;
use std::sync::Arc;

use hive_router::executor::hooks::on_graphql_params::GraphQLParams;
use hive_router::executor::response::graphql_error::GraphQLError;
use hive_router::sonic_rs::{JsonContainerTrait as _, JsonValueTrait as _};
use moka::sync::Cache;
use sha2::{Digest, Sha256};

/// The message clients look for (Apollo's link checks it, and the code).
pub const NOT_FOUND_MESSAGE: &str = "PersistedQueryNotFound";
pub const NOT_FOUND_CODE: &str = "PERSISTED_QUERY_NOT_FOUND";

pub struct PersistedQueries {
    queries: Cache<String, Arc<str>>,
}

/// What [`PersistedQueries::resolve`] did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// No `persistedQuery` extension.
    NotPersisted,
    /// Hash and query: the query is registered under the hash.
    Registered,
    /// Only a known hash: its query filled in.
    Filled,
}

fn requested_hash(
    extensions: Option<&HashMap<String, hive_router::sonic_rs::Value>>,
) -> Option<String> {
    let persisted = extensions?.get("persistedQuery")?;
    let hash = persisted.as_object()?.get(&"sha256Hash")?.as_str()?;
    Some(hash.to_ascii_lowercase())
}

impl PersistedQueries {
    pub fn new(max_bytes: u64) -> Self {
        Self {
            queries: Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|hash: &String, query: &Arc<str>| {
                    u32::try_from(hash.len() + query.len()).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }

    /// Fills in the query of a request that sent only a known hash, registers one that sent
    /// both, and refuses an unknown hash or a hash that is not the query's.
    pub fn resolve(&self, params: &mut GraphQLParams) -> Result<Resolution, Box<GraphQLError>> {
        let Some(hash) = requested_hash(params.extensions.as_ref()) else {
            return Ok(Resolution::NotPersisted);
        };
        match &params.query {
            Some(query) => {
                let actual = hex::encode(Sha256::digest(query.as_bytes()));
                if actual != hash {
                    return Err(Box::new(GraphQLError::from_message_and_code(
                        "persistedQuery.sha256Hash is not the SHA-256 of the query",
                        "BAD_USER_INPUT",
                    )));
                }
                self.queries.insert(hash, Arc::from(query.as_str()));
                Ok(Resolution::Registered)
            }
            None => match self.queries.get(&hash) {
                Some(query) => {
                    params.query = Some(query.to_string());
                    Ok(Resolution::Filled)
                }
                None => Err(Box::new(GraphQLError::from_message_and_code(
                    NOT_FOUND_MESSAGE,
                    NOT_FOUND_CODE,
                ))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: Option<&str>, hash: &str) -> GraphQLParams {
        let extensions: HashMap<String, hive_router::sonic_rs::Value> =
            hive_router::sonic_rs::from_str(&format!(
                "{{\"persistedQuery\":{{\"version\":1,\"sha256Hash\":\"{hash}\"}}}}"
            ))
            .unwrap();
        GraphQLParams {
            query: query.map(str::to_owned),
            operation_name: None,
            variables: HashMap::new(),
            extensions: Some(extensions),
        }
    }

    #[test]
    fn an_unknown_hash_is_not_found_until_the_client_registers_it_with_its_query() {
        let apq = PersistedQueries::new(1024 * 1024);
        let query = "{ product(sku: \"MUG-01\") { sku } }";
        let hash = hex::encode(Sha256::digest(query.as_bytes()));

        let mut only_hash = params(None, &hash);
        let refused = apq.resolve(&mut only_hash).unwrap_err();
        assert_eq!(refused.message, NOT_FOUND_MESSAGE);

        assert_eq!(
            apq.resolve(&mut params(Some(query), &hash)).unwrap(),
            Resolution::Registered
        );
        let mut again = params(None, &hash);
        assert_eq!(apq.resolve(&mut again).unwrap(), Resolution::Filled);
        assert_eq!(again.query.as_deref(), Some(query));
    }

    #[test]
    fn a_hash_that_is_not_the_query_s_is_refused_and_not_registered() {
        let apq = PersistedQueries::new(1024 * 1024);
        let wrong = "0".repeat(64);
        assert!(
            apq.resolve(&mut params(Some("{ me { id } }"), &wrong))
                .is_err()
        );
        assert_eq!(
            apq.resolve(&mut params(None, &wrong)).unwrap_err().message,
            NOT_FOUND_MESSAGE
        );
    }
}
