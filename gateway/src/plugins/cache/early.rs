//! Answering a repeated request before the engine parses it.
//!
//! Found through the full path, a hit still costs the engine's request decoding, parsing,
//! validation, normalisation and planning (each a cache lookup, but each cloning and hashing)
//! before `on_execute` reaches the store; profiled on the product-page bench, that pipeline was
//! most of a hit and the cache a tenth. So a request the cache served or stored is remembered by
//! its exact bytes — method, path, query string, `Content-Type`, `Accept`, body — and its viewer,
//! pointing at the store key it reached and the content type the engine negotiated for it. The
//! next identical request is answered from the store under that key in the engine's first
//! plugin hook (`on_graphql_params`).
//!
//! Why this is safe: only requests the engine validated, planned and the cache answered are
//! remembered, and the index lives in [`Policies`], rebuilt with every supergraph, so nothing is
//! answered that the served schema would refuse. Freshness is the store's, as on the full path:
//! an entry a write made stale, or one expired, sends the request the full way. Requests asking
//! for the debug summary always take the full path (the summary is built there).

use std::sync::Arc;

use hive_router::executor::plugin_context::{PluginContext, RouterHttpRequest};
use ntex::http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use ntex::web::WebResponse;
use polygate_kit::Viewer;
use sha2::{Digest, Sha256};

use super::debug::DebugRequested;
use super::policy::Policies;
use super::store::Lookup;
use super::{ResponseCache, Work, metrics, pending};
use crate::operations::OperationLabel;

/// Requests remembered per supergraph (each ~150 bytes).
pub const MAX_REMEMBERED: u64 = 50_000;

/// The identity of a request as the client sent it, and of its viewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestKey([u8; 32]);

impl RequestKey {
    pub fn of(request: &RouterHttpRequest<'_>, body: &[u8], viewer: Option<&str>) -> Self {
        let header = |name| {
            request
                .headers
                .get(name)
                .map_or(&[][..], HeaderValue::as_bytes)
        };
        let mut hash = Sha256::new();
        // Length-prefixed parts, so no request reads as another.
        for part in [
            request.method.as_str().as_bytes(),
            request.path.as_bytes(),
            request.query_string.as_bytes(),
            header(CONTENT_TYPE),
            header(ACCEPT),
            body,
        ] {
            hash.update((part.len() as u64).to_le_bytes());
            hash.update(part);
        }
        match viewer {
            Some(user_id) => {
                hash.update([1]);
                hash.update(user_id.as_bytes());
            }
            None => hash.update([0]),
        }
        Self(hash.finalize().into())
    }
}

/// Where a remembered request's answer is kept, and how the engine labelled it.
pub struct Remembered {
    key: [u8; 32],
    content_type: HeaderValue,
    operation: Option<String>,
}

pub type RequestIndex = moka::sync::Cache<RequestKey, Arc<Remembered>>;

pub fn index() -> RequestIndex {
    moka::sync::Cache::new(MAX_REMEMBERED)
}

/// In a request's context: never remember it, whatever the cache does with it.
struct AlwaysFullPath;

/// Marks this request as one never to answer early (an APQ registration: see `apq.rs`).
pub fn always_full_path(context: &PluginContext) {
    context.insert(AlwaysFullPath);
}

/// In a request's context from the first hook to the response: a request not answered early,
/// to be remembered if the cache answers or stores it, in the index of the supergraph it was
/// checked against.
pub(super) struct NotRemembered {
    request: RequestKey,
    policies: Arc<Policies>,
}

impl ResponseCache {
    /// The stored answer to a request identical to one answered before, or `None` (and a note
    /// in the context to remember this one).
    pub fn answer_early(
        &self,
        context: &PluginContext,
        request: &RouterHttpRequest<'_>,
        body: &[u8],
    ) -> Option<ntex::http::Response> {
        if context.get_ref::<DebugRequested>().is_some() {
            return None;
        }
        if let Some(shared) = &self.shared
            && !shared.available()
        {
            return None;
        }
        let policies = self.policies()?;
        let viewer = context.get_ref::<Viewer>();
        let request = RequestKey::of(request, body, viewer.as_deref().map(|v| v.user_id.as_str()));
        drop(viewer);
        if let Some(remembered) = policies.requests.get(&request) {
            match self.store.get(&remembered.key) {
                Lookup::Hit(entry) => {
                    metrics::event("l1", "hit", &entry.label);
                    metrics::event("l1", "early_hit", &entry.label);
                    if let Some(operation) = &remembered.operation {
                        context.insert(OperationLabel(operation.clone()));
                    }
                    context.insert(pending(
                        Work::Served {
                            key: remembered.key,
                            max_age_secs: entry.remaining_secs(self.store.now_ms()),
                            scope: entry.scope,
                            etag: entry.etag().to_owned(),
                        },
                        None,
                    ));
                    return Some(
                        ntex::http::Response::build(ntex::http::StatusCode::OK)
                            .header(CONTENT_TYPE, remembered.content_type.clone())
                            .body(entry.body.to_vec()),
                    );
                }
                // Gone from the store: the full path counts the miss and may store it again.
                Lookup::Expired(entry) => metrics::event("l1", "expired", &entry.label),
                Lookup::Stale(entry) => metrics::event("l1", "stale_drop", &entry.label),
                Lookup::Miss => {}
            }
        }
        context.insert(NotRemembered { request, policies });
        None
    }

    /// After the cache served or stored `key` for this request through the full path: remember
    /// the request, so its next identical copy is answered early.
    pub(super) fn remember(&self, context: &PluginContext, key: [u8; 32], response: &WebResponse) {
        let Some(not_remembered) = context.get_ref::<NotRemembered>() else {
            return;
        };
        if context.contains::<AlwaysFullPath>() {
            return;
        }
        let response = response.response();
        if response.status() != ntex::http::StatusCode::OK {
            return;
        }
        // A single JSON body only: a client that negotiated a stream (SSE, multipart) got the
        // entry framed by the engine, framing an early answer would not reproduce.
        let Some(content_type) = response.headers().get(CONTENT_TYPE).filter(|value| {
            let value = value.as_bytes();
            value.starts_with(b"application/json")
                || value.starts_with(b"application/graphql-response+json")
        }) else {
            return;
        };
        let operation = context
            .get_ref::<OperationLabel>()
            .map(|label| label.0.clone());
        not_remembered.policies.requests.insert(
            not_remembered.request,
            Arc::new(Remembered {
                key,
                content_type: content_type.clone(),
                operation,
            }),
        );
    }
}
