//! The `extensions.cache` debug summary: what the cache did with one request and why, added to
//! the response when the client sends `x-polygate-cache-debug: 1` and `[cache] debug` lets it.
//!
//! It describes only this request: the decision, the lookups, the policy (max age, scope, the
//! types reached), the first 8 hex digits of the key and, for a mutation, the tags it
//! invalidated (found in the body this viewer receives anyway). Never another entry's content
//! or tags, so no other viewer's data. The one non-obvious decision: a debug response is sent
//! with `Cache-Control: no-store` and no `ETag`, because its body differs from the cached body
//! and a shared HTTP cache must not keep it; the computed policy is in the summary instead.

use serde::Serialize;

use super::config::{DebugAccess, Scope};
use super::policy::OperationPolicy;

/// Request header asking for the summary (any value but empty or `0`).
pub const CACHE_DEBUG_HEADER: &str = "x-polygate-cache-debug";

/// Marks, in the request's context, that the summary was asked for and is allowed.
pub struct DebugRequested;

/// Whether a request with `header` (its value) from a viewer (`signed_in`) gets the summary.
pub fn allowed(access: DebugAccess, header: Option<&str>, signed_in: bool) -> bool {
    let asked = header.is_some_and(|v| !v.trim().is_empty() && v.trim() != "0");
    asked
        && match access {
            DebugAccess::Off => false,
            DebugAccess::SignedIn => signed_in,
            DebugAccess::Everyone => true,
        }
}

/// What the cache did, as `extensions.cache` shows it.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// `response` (the whole-operation cache).
    pub level: &'static str,
    /// `hit` (served from `source`), `store` (a miss, stored now), `miss` (a miss, not stored:
    /// see `reason`) or `bypass` (not looked up: see `reason`).
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What each level answered, in order: `l1:miss`, `l1:expired`, `l1:stale`, `l2:miss`, …
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lookups: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<String>,
    /// The first 8 hex digits of the cache key (to tell entries apart, not to find them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// A mutation's invalidated tags (`e:Type:key`, `u:Type`, `t:Type`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalidated: Vec<String>,
}

pub fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Public => "public",
        Scope::Private => "private",
    }
}

impl Summary {
    pub fn bypass(reason: impl Into<String>) -> Self {
        Self {
            level: "response",
            status: "bypass",
            reason: Some(reason.into()),
            ..Self::default()
        }
    }

    /// A looked-up operation with its policy and key.
    pub fn looked_up(policy: &OperationPolicy, key: &[u8; 32]) -> Self {
        Self {
            level: "response",
            status: "miss",
            max_age: Some(policy.max_age.as_secs()),
            scope: Some(scope_name(policy.scope)),
            types: policy.types.iter().cloned().collect(),
            key: Some(hex::encode(&key[..4])),
            ..Self::default()
        }
    }
}

impl Summary {
    /// Served from `source` (`l1`, `l2`) with `max_age_secs` left.
    pub fn hit(mut self, source: &'static str, max_age_secs: u64) -> Self {
        self.status = "hit";
        self.source = Some(source);
        self.max_age = Some(max_age_secs);
        self
    }
}

/// `body` with `extensions.cache` set to `summary`; `None` when the body is not a JSON object.
pub fn with_summary(body: &[u8], summary: &Summary) -> Option<Vec<u8>> {
    let mut parsed: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = parsed.as_object_mut()?;
    let extensions = object
        .entry("extensions")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    if !extensions.is_object() {
        *extensions = serde_json::Value::Object(serde_json::Map::new());
    }
    extensions
        .as_object_mut()?
        .insert("cache".to_owned(), serde_json::to_value(summary).ok()?);
    serde_json::to_vec(&parsed).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_requests_get_the_summary_only_when_everyone_may() {
        assert!(!allowed(DebugAccess::SignedIn, Some("1"), false));
        assert!(allowed(DebugAccess::SignedIn, Some("1"), true));
        assert!(allowed(DebugAccess::Everyone, Some("1"), false));
        assert!(!allowed(DebugAccess::Off, Some("1"), true));
        assert!(!allowed(DebugAccess::Everyone, Some("0"), true));
        assert!(!allowed(DebugAccess::Everyone, None, true));
    }

    #[test]
    fn the_summary_joins_existing_extensions_and_leaves_data_alone() {
        let body = br#"{"data":{"a":1},"extensions":{"other":true}}"#;
        let out = with_summary(body, &Summary::bypass("mutation")).unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(parsed["data"], serde_json::json!({"a": 1}));
        assert_eq!(parsed["extensions"]["other"], serde_json::json!(true));
        assert_eq!(
            parsed["extensions"]["cache"],
            serde_json::json!({"level": "response", "status": "bypass", "reason": "mutation"})
        );
    }
}
