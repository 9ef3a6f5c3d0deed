//! The HTTP response as the cache sees it: whether its body may be stored, its cache headers,
//! a 304 in its place, and the debug summary added to its body.

use bytes::Bytes;
use ntex::http::HeaderMap;
use ntex::http::body::{Body, ResponseBody};
use ntex::http::header::{HeaderName, HeaderValue};
use ntex::web::WebResponse;

use super::config::Scope;
use super::debug::{self, Summary};
use super::{CACHE_STATUS_HEADER, RequestFacts};

fn header_value(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(text).ok()
}

fn cache_control(max_age_secs: u64, scope: Scope) -> String {
    let scope = match scope {
        Scope::Public => "public",
        Scope::Private => "private",
    };
    format!("{scope}, max-age={max_age_secs}")
}

/// The body of a response the engine produced in one piece.
pub(super) fn body_bytes(response: &WebResponse) -> Option<Bytes> {
    match response.response().body() {
        ResponseBody::Body(Body::Bytes(bytes)) | ResponseBody::Other(Body::Bytes(bytes)) => {
            Some(Bytes::copy_from_slice(bytes))
        }
        _ => None,
    }
}

/// The body when the response may be cached: 200, not compressed, JSON with data and no errors.
pub(super) fn clean_body(response: &WebResponse) -> Option<Bytes> {
    let inner = response.response();
    if inner.status() != ntex::http::StatusCode::OK
        || inner.headers().contains_key("content-encoding")
    {
        return None;
    }
    let body = body_bytes(response)?;
    let parsed: serde_json::Value = serde_json::from_slice(&body).ok()?;
    let has_errors = parsed.get("errors").is_some_and(|e| !e.is_null());
    let has_data = parsed.get("data").is_some_and(serde_json::Value::is_object);
    (!has_errors && has_data).then_some(body)
}

pub(super) fn data_of(body: &[u8]) -> Option<serde_json::Value> {
    let mut parsed: serde_json::Value = serde_json::from_slice(body).ok()?;
    let data = parsed.get_mut("data")?.take();
    data.is_object().then_some(data)
}

/// The response with its cache headers, or a 304 in its place when a GET already holds `etag`
/// (never with a debug summary: that body is not the cached one).
pub(super) fn with_cache_headers(
    mut response: WebResponse,
    facts: &RequestFacts,
    status: &str,
    max_age_secs: u64,
    scope: Scope,
    etag: &str,
) -> WebResponse {
    if !facts.debug && facts.is_get && facts.if_none_match.as_deref() == Some(etag) {
        return not_modified(response, etag, max_age_secs, scope);
    }
    insert_cache_headers(
        response.response_mut().headers_mut(),
        status,
        max_age_secs,
        scope,
        etag,
    );
    response
}

fn insert_cache_headers(
    headers: &mut HeaderMap,
    status: &str,
    max_age_secs: u64,
    scope: Scope,
    etag: &str,
) {
    for (name, value) in [
        ("cache-control", cache_control(max_age_secs, scope)),
        ("etag", etag.to_owned()),
        (CACHE_STATUS_HEADER, status.to_owned()),
    ] {
        if let (Ok(name), Some(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            header_value(&value),
        ) {
            headers.insert(name, value);
        }
    }
}

/// The response with `extensions.cache` in its body, `Cache-Control: no-store` and no `ETag`:
/// the body is not the cached one, and no shared HTTP cache may keep it.
pub(super) fn with_debug_summary(response: WebResponse, summary: &Summary) -> WebResponse {
    let Some(body) = body_bytes(&response).and_then(|b| debug::with_summary(&b, summary)) else {
        return response;
    };
    response.map_body(move |head, _| {
        head.headers.remove(ntex::http::header::CONTENT_LENGTH);
        head.headers.remove(ntex::http::header::ETAG);
        head.headers.insert(
            ntex::http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
        ResponseBody::Body(Body::from(body))
    })
}

fn not_modified(response: WebResponse, etag: &str, max_age_secs: u64, scope: Scope) -> WebResponse {
    let mut reply = ntex::http::Response::build(ntex::http::StatusCode::NOT_MODIFIED).finish();
    insert_cache_headers(reply.headers_mut(), "hit", max_age_secs, scope, etag);
    response.into_response(reply)
}
