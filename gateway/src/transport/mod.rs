//! How the gateway reaches a subgraph. Hive Router plans and merges; a plugin swaps the executor
//! it would use for a subgraph: [`in_process::InProcessExecutor`] runs our async-graphql schema
//! inside this process, [`guarded::GuardedExecutor`] wraps the router's own HTTP executor.
//! Both turn a failed call into `null` + `STORE_UNAVAILABLE` for that subgraph's fields only.

pub mod guarded;
pub mod in_process;
pub mod inflight;

use hive_router::GraphQLError;
use hive_router::executor::response::subgraph_response::SubgraphResponse;
use polygate_kit::ErrorCode;

/// The response for a subgraph call that failed as a whole: no data, one coded error.
pub(crate) fn unavailable(
    subgraph: &str,
    detail: &dyn std::fmt::Display,
) -> SubgraphResponse<'static> {
    tracing::warn!(subgraph, error = %detail, "subgraph call failed");
    SubgraphResponse {
        errors: Some(vec![GraphQLError::from_message_and_code(
            format!("the {subgraph} service is unavailable"),
            ErrorCode::StoreUnavailable.as_str(),
        )]),
        ..Default::default()
    }
}
