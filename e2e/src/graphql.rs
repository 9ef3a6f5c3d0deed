//! A small GraphQL-over-HTTP client for tests.

use serde_json::{Value, json};

pub struct Client {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
}

impl Client {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            url: url.into(),
            token: None,
        }
    }

    /// The same client, signed in with `token`.
    pub fn with_token(&self, token: &str) -> Self {
        Self {
            http: self.http.clone(),
            url: self.url.clone(),
            token: Some(token.to_owned()),
        }
    }

    /// POSTs a query and returns the whole JSON response (data and errors).
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        self.post_with_headers(query, variables, &[]).await
    }

    /// POSTs a query; `Err` when no HTTP response arrives (e.g. the server died mid-request).
    pub async fn try_query(&self, query: &str, variables: Value) -> Result<Value, String> {
        let mut request = self
            .http
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        response.json().await.map_err(|e| e.to_string())
    }

    pub async fn post_with_headers(
        &self,
        query: &str,
        variables: Value,
        headers: &[(&str, &str)],
    ) -> Value {
        let mut request = self
            .http
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let response = request.send().await.expect("gateway answers");
        let status = response.status();
        let text = response.text().await.expect("body");
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("non-JSON response ({status}): {e}: {text}"))
    }
}

/// The `extensions.code` of every error in a response.
pub fn error_codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["extensions"]["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
