//! One place where every error leaving the gateway gets a code from our stable list
//! (`extensions.code`, see the README): the engine's own codes are mapped, ours pass through.
//! The engine's original code stays visible in the log, not in the response.

use hive_router::executor::response::graphql_error::GraphQLError;
use polygate_kit::ErrorCode;

/// The codes the engine's document validation (graphql-tools) gives its errors: each names the
/// rule the client's document broke. Some come without `locations` (a required input field
/// missing from an object literal), so the code, not the shape, says they are the client's.
const VALIDATION_RULES: &[&str] = &[
    "FieldsOnCorrectType",
    "FragmentsOnCompositeTypes",
    "KnownArgumentNames",
    "KnownDirectives",
    "KnownFragmentNames",
    "KnownTypeNames",
    "LeafFieldSelections",
    "LoneAnonymousOperation",
    "NoFragmentsCycle",
    "NoUndefinedVariables",
    "NoUnusedFragments",
    "NoUnusedVariables",
    "OverlappingFieldsCanBeMerged",
    "PossibleFragmentSpreads",
    "ProvidedRequiredArguments",
    "SingleFieldSubscriptions",
    "UniqueArgumentNames",
    "UniqueDirectivesPerLocation",
    "UniqueFragmentNames",
    "UniqueInputFieldNames",
    "UniqueOperationNames",
    "UniqueVariableNames",
    "ValuesOfCorrectType",
    "VariablesAreInputTypes",
    "VariablesInAllowedPosition",
];

/// Our code for an error that carries `code` (or none).
pub fn stable_code(code: Option<&str>) -> ErrorCode {
    let Some(code) = code else {
        return ErrorCode::Internal;
    };
    if let Some(ours) = ErrorCode::ALL.iter().find(|c| c.as_str() == code) {
        return *ours;
    }
    let client_caused = code.starts_with("MAX_")
        || code.starts_with("GRAPHQL_")
        || code.starts_with("PERSISTED_DOCUMENT")
        || code.starts_with("PERSISTED_QUERY")
        || code.starts_with("COST_")
        || code.starts_with("UNSUPPORTED_")
        || VALIDATION_RULES.contains(&code)
        || matches!(
            code,
            "BAD_REQUEST"
                | "INTROSPECTION_DISABLED"
                | "MISSING_QUERY_PARAM"
                | "MISSING_CONTENT_TYPE_HEADER"
                | "MUTATION_NOT_ALLOWED_OVER_HTTP_GET"
                | "METHOD_NOT_ALLOWED"
                | "INVALID_HEADER"
                | "UNPROCESSABLE_QUERY_PARAMS"
                | "CSRF_PREVENTION_FAILED"
                | "REQUEST_HEADER_FIELDS_TOO_LARGE"
                | "OPERATION_RESOLUTION_FAILURE"
                | "SUBSCRIPTIONS_NOT_SUPPORTED"
                | "SUBSCRIPTIONS_TRANSPORT_NOT_SUPPORTED"
        );
    if client_caused {
        return ErrorCode::BadUserInput;
    }
    let upstream = code.starts_with("SUBGRAPH_")
        || code.starts_with("SUBREQUEST_")
        || matches!(code, "GATEWAY_TIMEOUT" | "NO_SUPERGRAPH_AVAILABLE");
    if upstream {
        ErrorCode::StoreUnavailable
    } else {
        ErrorCode::Internal
    }
}

/// Replaces `error`'s code with ours. An error that points into the client's document
/// (locations, no response path) and has no code of ours is the engine's validation of that
/// document, coded by the rule it broke (`FieldsOnCorrectType`, …): `BadUserInput`. Any other
/// unknown or missing code is `Internal`.
pub fn give_stable_code(error: &mut GraphQLError) {
    let original = error.extensions.code.take();
    let about_the_document =
        error.locations.as_ref().is_some_and(|l| !l.is_empty()) && error.path.is_none();
    let code = match stable_code(original.as_deref()) {
        ErrorCode::Internal if about_the_document => ErrorCode::BadUserInput,
        code => code,
    };
    if original.as_deref() != Some(code.as_str()) {
        tracing::debug!(from = ?original, to = code.as_str(), message = %error.message, "error code mapped");
    }
    error.extensions.code = Some(code.as_str().to_owned());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_error_is_bad_user_input_and_an_unknown_bare_one_internal() {
        let mut invalid: GraphQLError = serde_json::from_value(serde_json::json!({
            "message": "Cannot query field \"nope\" on type \"Query\".",
            "locations": [{ "line": 1, "column": 3 }],
            "extensions": { "code": "FieldsOnCorrectType" }
        }))
        .unwrap();
        give_stable_code(&mut invalid);
        assert_eq!(invalid.extensions.code.as_deref(), Some("BAD_USER_INPUT"));
        let mut bare: GraphQLError =
            serde_json::from_value(serde_json::json!({ "message": "boom" })).unwrap();
        give_stable_code(&mut bare);
        assert_eq!(bare.extensions.code.as_deref(), Some("INTERNAL"));
    }

    #[test]
    fn a_validation_error_without_locations_is_bad_user_input() {
        // What the engine answers for `restock(input: {sku: "MUG-01"})` without the required
        // `idempotencyKey`: the rule's name as code, no locations, no path.
        let mut missing_field: GraphQLError = serde_json::from_value(serde_json::json!({
            "message": "Field \"RestockInput.idempotencyKey\" of required type \"String!\" was not provided.",
            "extensions": { "code": "ValuesOfCorrectType" }
        }))
        .unwrap();
        give_stable_code(&mut missing_field);
        assert_eq!(
            missing_field.extensions.code.as_deref(),
            Some("BAD_USER_INPUT")
        );
    }

    #[test]
    fn our_codes_pass_through() {
        for code in ErrorCode::ALL {
            assert_eq!(stable_code(Some(code.as_str())), code);
        }
    }

    #[test]
    fn engine_codes_map_to_ours() {
        assert_eq!(
            stable_code(Some("MAX_DEPTH_EXCEEDED")),
            ErrorCode::BadUserInput
        );
        assert_eq!(
            stable_code(Some("MAX_ALIASES_EXCEEDED")),
            ErrorCode::BadUserInput
        );
        assert_eq!(
            stable_code(Some("GRAPHQL_VALIDATION_FAILED")),
            ErrorCode::BadUserInput
        );
        assert_eq!(
            stable_code(Some("INTROSPECTION_DISABLED")),
            ErrorCode::BadUserInput
        );
        assert_eq!(
            stable_code(Some("SUBREQUEST_HTTP_ERROR")),
            ErrorCode::StoreUnavailable
        );
        assert_eq!(
            stable_code(Some("GATEWAY_TIMEOUT")),
            ErrorCode::StoreUnavailable
        );
        assert_eq!(
            stable_code(Some("PLAN_EXECUTION_FAILED")),
            ErrorCode::Internal
        );
        assert_eq!(stable_code(None), ErrorCode::Internal);
    }
}
