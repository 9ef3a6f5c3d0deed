//! The gateway's own Prometheus metrics; `/metrics` renders them with the subgraphs' store
//! metrics from the same process-wide registry.

use std::sync::LazyLock;
use std::time::Instant;

use hive_router::executor::response::subgraph_response::SubgraphResponse;
use prometheus::{HistogramVec, IntCounterVec, register_histogram_vec, register_int_counter_vec};

const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Client requests by path, status class and GraphQL operation name (bounded, see
/// `operations`).
pub static HTTP_REQUEST_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "polygate_http_request_seconds",
        "Latency of client requests to the gateway",
        &["path", "status", "operation"],
        LATENCY_BUCKETS.to_vec()
    )
    .expect("metric registers once")
});

/// Requests refused by a rate limit, by scope (`client`, `session`).
pub static RATE_LIMITED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    register_int_counter_vec!(
        "polygate_rate_limited_total",
        "Requests refused with RATE_LIMITED",
        &["scope"]
    )
    .expect("metric registers once")
});

/// Subgraph fetches by subgraph, transport and outcome.
pub static SUBGRAPH_CALL_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    register_histogram_vec!(
        "polygate_subgraph_call_seconds",
        "Latency of subgraph fetches made by the gateway",
        &["subgraph", "transport", "outcome"],
        LATENCY_BUCKETS.to_vec()
    )
    .expect("metric registers once")
});

pub struct SubgraphCallTimer<'a> {
    subgraph: &'a str,
    transport: &'static str,
    started: Instant,
}

impl<'a> SubgraphCallTimer<'a> {
    pub fn start(subgraph: &'a str, transport: &'static str) -> Self {
        Self {
            subgraph,
            transport,
            started: Instant::now(),
        }
    }

    fn record(&self, outcome: &str) {
        SUBGRAPH_CALL_SECONDS
            .with_label_values(&[self.subgraph, self.transport, outcome])
            .observe(self.started.elapsed().as_secs_f64());
    }

    pub fn ok(self, response: SubgraphResponse<'static>) -> SubgraphResponse<'static> {
        self.record("ok");
        response
    }

    pub fn failed(self, response: SubgraphResponse<'static>) -> SubgraphResponse<'static> {
        self.record("error");
        response
    }
}
