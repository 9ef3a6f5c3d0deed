//! The telemetry GraphQL schema (Apollo Federation v2): hosts, their readings and the TSBS
//! devops query types, the federation entities `Host` (by id and by hostname) and `Department`
//! (org's, extended with its hosts), and the mutations that register hosts and report metrics.
//!
//! Non-obvious: every list of entities is loaded through the kit's [`Batcher`]s held in the
//! schema data — hosts by id and by hostname, a department's hosts, the newest readings of a
//! host, and a host's series — so N hosts in a list cost one store call per field, whatever
//! the plan. A series asked with `last` is aligned to its bucket (it ends at the next bucket
//! boundary), so every host in one request asks the same window and shares one store call, and
//! whole-minute and whole-hour windows can be answered from the rollups.

mod column;
mod department;
mod host;
mod inputs;
mod loaders;
mod mutation;
mod query;
mod readings;
mod time;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema};
use chrono::Duration;
use polygate_kit::batch::Batcher;
use polygate_kit::error::internal_error;
use polygate_kit::{ErrorCode, api_error};

use crate::clock::Clock;
use crate::domain::{InvalidBatch, InvalidInput};
use crate::store::{StoreError, TelemetryStore};

pub(crate) use time::{parse_time, rfc3339};

pub use department::DepartmentNode;
pub use host::HostNode;
pub use inputs::{HostInput, ReadingInput, WindowInput};
pub use loaders::{HostLoader, HostSeriesLoader, HostnameLoader, LastReadingsLoader, TeamLoader};
pub use mutation::{Mutation, ReportPayload};
pub use query::{HostPage, Query, TelemetryStatus};
pub use readings::{BucketNode, MetricValue, PointNode, ReadingAboveNode, ReadingNode, SeriesNode};

pub type TelemetrySchema = Schema<Query, Mutation, EmptySubscription>;

/// What resolvers need besides the store: the clock and the raw retention (readings older
/// than it are refused at the door).
#[derive(Clone)]
pub struct Context {
    pub store: Arc<dyn TelemetryStore>,
    pub clock: Arc<dyn Clock>,
    pub raw_retention: Duration,
}

pub fn build(context: Context) -> TelemetrySchema {
    let store = context.store.clone();
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .data(Batcher::new(HostLoader(store.clone())))
        .data(Batcher::new(HostnameLoader(store.clone())))
        .data(Batcher::new(TeamLoader(store.clone())))
        .data(Batcher::new(LastReadingsLoader(store.clone())))
        .data(Batcher::new(HostSeriesLoader(store)))
        .data(context)
        .finish()
}

/// The federation SDL; needs no store, since printing resolves nothing.
pub fn sdl() -> String {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(polygate_kit::sdl_options())
}

pub(crate) fn context<'a>(ctx: &async_graphql::Context<'a>) -> &'a Context {
    ctx.data_unchecked::<Context>()
}

/// A value that failed the domain rules: `BAD_USER_INPUT`, the message naming the field.
pub(crate) fn bad_input(err: InvalidInput) -> async_graphql::Error {
    api_error(ErrorCode::BadUserInput, err.to_string())
}

/// A refused batch: `BAD_USER_INPUT` naming the bad rows.
pub(crate) fn bad_batch(err: InvalidBatch) -> async_graphql::Error {
    api_error(ErrorCode::BadUserInput, err.to_string())
}

/// A store failure as the client sees it: what the client can fix as `BAD_USER_INPUT`, the
/// rest as `STORE_UNAVAILABLE` with the details only in the log.
pub(crate) fn store_failed(err: StoreError) -> async_graphql::Error {
    match err {
        StoreError::TooLarge(limit) => api_error(
            ErrorCode::BadUserInput,
            format!("the answer would exceed {limit} points: narrow the window, hosts or metrics"),
        ),
        StoreError::UnknownHosts(ids) => api_error(
            ErrorCode::BadUserInput,
            format!("hosts {ids:?} are not registered; nothing was written"),
        ),
        other => internal_error(ErrorCode::StoreUnavailable, &other),
    }
}
