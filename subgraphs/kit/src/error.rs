//! The stable `extensions.code` values every GraphQL error carries (listed in DESIGN.md).
//!
//! Each crate keeps its own `thiserror` enum and maps it to an [`ErrorCode`] in one place; this
//! module only owns the codes and how they are written onto an `async_graphql::Error`.

use async_graphql::ErrorExtensions;

/// The closed list of error codes a client can rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    BadUserInput,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    OutOfStock,
    RateLimited,
    StoreUnavailable,
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 9] = [
        ErrorCode::BadUserInput,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::OutOfStock,
        ErrorCode::RateLimited,
        ErrorCode::StoreUnavailable,
        ErrorCode::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::OutOfStock => "OUT_OF_STOCK",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::StoreUnavailable => "STORE_UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A GraphQL error with a client-safe message and its code.
pub fn api_error(code: ErrorCode, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message.into()).extend_with(|_, ext| ext.set("code", code.as_str()))
}

/// Logs the internal detail and returns an error that tells the client only the code.
pub fn internal_error(code: ErrorCode, detail: &dyn std::fmt::Display) -> async_graphql::Error {
    tracing::error!(code = code.as_str(), error = %detail, "request failed");
    let message = match code {
        ErrorCode::StoreUnavailable => "the store behind this field is unavailable",
        _ => "internal error",
    };
    api_error(code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_screaming_snake_case_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(s.chars().all(|c| c.is_ascii_uppercase() || c == '_'), "{s}");
            assert!(seen.insert(s), "duplicate code {s}");
        }
    }

    #[test]
    fn api_error_carries_the_code_in_extensions() {
        let err = api_error(ErrorCode::Forbidden, "not yours");
        let ext = err.extensions.expect("extensions");
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("FORBIDDEN"))
        );
        assert_eq!(err.message, "not yours");
    }
}
