//! The `[cache]` section: switches, the L1 bound, and per-type policy overrides.
//!
//! Type and mutation names are matched case-insensitively, because `POLYGATE_…` environment
//! variables lower-case every key (`POLYGATE_CACHE__TYPES__PRODUCT__MAX_AGE_SECS=30`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Who may receive a cached response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The same for every viewer: one entry serves everyone.
    #[default]
    Public,
    /// Depends on the viewer: cached under the viewer's user id, never for anonymous requests.
    Private,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CacheConfig {
    /// Serve cacheable queries from the response cache.
    pub enabled: bool,
    /// Upper bound of the in-process (L1) cache: bodies plus keys and tags, in bytes.
    pub max_bytes: u64,
    /// Redis shared by every gateway instance (L2 and the invalidation channel), e.g. the
    /// session subgraph's Redis. Empty: L1 only, which is right for one instance.
    pub redis_url: String,
    /// Prefix of every L2 key and of the invalidation channel: deployments (or test runs)
    /// sharing one Redis keep apart by it.
    pub redis_prefix: String,
    /// Per type (by its supergraph name): overrides any `@cacheControl` the supergraph carries.
    pub types: BTreeMap<String, TypePolicy>,
    /// Per mutation field: the types it changes beyond those its response shows (for example
    /// `placeOrder` changes `Product.available`). Every entry holding such a type is dropped.
    pub mutations: BTreeMap<String, Vec<String>>,
    /// Cache each `_entities` representation of a subgraph fetch on its own (the entity level,
    /// in-process, bounded by `max_bytes` of its own), with the same type policies.
    pub entities: bool,
    /// Who gets the `extensions.cache` summary when they send `x-polygate-cache-debug: 1`:
    /// `off`, `signed-in` (any signed-in viewer; anonymous requests ignore the header) or
    /// `everyone`.
    pub debug: DebugAccess,
}

/// Who may ask for the `extensions.cache` debug summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DebugAccess {
    Off,
    /// Signed-in viewers only: anonymous (CDN-facing) responses never vary by the header.
    #[default]
    SignedIn,
    Everyone,
}

/// How long a type's data may be served from the cache, and to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypePolicy {
    /// Seconds; 0 makes every response holding this type uncacheable.
    pub max_age_secs: u64,
    #[serde(default)]
    pub scope: Scope,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            max_bytes: 64 * 1024 * 1024,
            redis_url: String::new(),
            redis_prefix: "polygate:cache:".to_owned(),
            types: BTreeMap::new(),
            mutations: BTreeMap::new(),
            entities: false,
            debug: DebugAccess::default(),
        }
    }
}
