//! The org store port and what its adapters share: the error type, and the timeout, bound and
//! metrics wrapper every call goes through.
//!
//! Non-obvious: the port speaks in traversals (subordinates, chain of command, lowest common
//! manager, department trees), not in rows, so each adapter answers one of them in one round
//! trip with its engine's own tool: quantified path patterns on Neo4j, a path column and
//! recursive CTEs on SQLite. Adapters never return driver errors: callers see `NotFound`,
//! `Refused`, `Conflict`, `Unavailable` (retryable) or `Other` (a bug or bad data).

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDate;
use polygate_kit::metrics::StoreCallTimer;

use crate::domain::{
    Department, DepartmentCount, DepartmentId, Depth, Email, Employee, EmployeeId, OrgChart, Reorg,
    ReorgOutcome, Span, Subordinate, SubordinateCursor,
};

pub mod conformance;
pub mod neo4j;
pub mod sqlite;

pub use neo4j::Neo4jStore;
pub use sqlite::SqliteStore;

/// Longest a single store call may take (retries included) before it counts as `Unavailable`.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest a reorganisation may take, waiting for the org lock included: reorganisations queue
/// behind each other (one at a time keeps the tree a tree), and on a cold server each of the
/// queue's transactions first compiles its Cypher.
pub const REORG_TIMEOUT: Duration = Duration::from_secs(20);

/// Largest page any paged read returns; the GraphQL edge allows less.
pub const MAX_PAGE: u32 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A person or department the call names does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The change breaks a rule of the hierarchy (it would make a cycle, merge a department
    /// into itself, …): the caller's input is wrong.
    #[error("refused: {0}")]
    Refused(String),
    /// Someone else changed the org first (a stale expected version), or an id or e-mail is
    /// taken by someone else.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The store could not be reached or did not answer in time.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a failed query or a row that does not decode.
    #[error("store error: {0}")]
    Other(String),
}

/// Everything the org subgraph reads and writes.
///
/// Batch reads (`…_by_ids`, `…_of`) take any number of keys and answer in one store call, in any
/// order, leaving out keys that match nothing; the schema's batchers rely on that.
#[async_trait]
pub trait OrgStore: Send + Sync {
    // ---- people -----------------------------------------------------------------------------
    async fn employees_by_ids(&self, ids: &[EmployeeId]) -> Result<Vec<Employee>, StoreError>;
    async fn employees_by_emails(&self, emails: &[Email]) -> Result<Vec<Employee>, StoreError>;
    /// Each employee's direct manager, as `(employee, manager)`; the root has none.
    async fn managers_of(
        &self,
        ids: &[EmployeeId],
    ) -> Result<Vec<(EmployeeId, Employee)>, StoreError>;
    /// Each employee's direct reports, as `(manager, report)`, each manager's in id order.
    async fn direct_reports_of(
        &self,
        ids: &[EmployeeId],
    ) -> Result<Vec<(EmployeeId, Employee)>, StoreError>;
    /// Direct and total reports of each employee.
    async fn spans_of_control(
        &self,
        ids: &[EmployeeId],
    ) -> Result<Vec<(EmployeeId, Span)>, StoreError>;

    // ---- traversals -------------------------------------------------------------------------
    /// Up to `first` people below `manager`, at most `max_depth` levels down, ordered by depth
    /// then id, after `after`. Empty when the manager does not exist.
    async fn subordinates(
        &self,
        manager: &EmployeeId,
        max_depth: Depth,
        first: u32,
        after: Option<&SubordinateCursor>,
    ) -> Result<Vec<Subordinate>, StoreError>;
    /// The employee's manager, their manager, … up to the root, nearest first.
    async fn chain_of_command(&self, employee: &EmployeeId) -> Result<Vec<Employee>, StoreError>;
    /// The lowest person both `a` and `b` report to, directly or not (never `a` or `b`
    /// themselves); `None` when either is unknown or the root.
    async fn lowest_common_manager(
        &self,
        a: &EmployeeId,
        b: &EmployeeId,
    ) -> Result<Option<Employee>, StoreError>;

    // ---- departments ------------------------------------------------------------------------
    async fn departments_by_ids(&self, ids: &[DepartmentId])
    -> Result<Vec<Department>, StoreError>;
    /// The direct sub-departments of each department (each names its parent), in id order.
    async fn sub_departments_of(&self, ids: &[DepartmentId])
    -> Result<Vec<Department>, StoreError>;
    /// Each department's head, as `(department, head)`.
    async fn department_heads(
        &self,
        ids: &[DepartmentId],
    ) -> Result<Vec<(DepartmentId, Employee)>, StoreError>;
    /// `root` and every department below it with their head counts, parents first; empty when
    /// `root` does not exist.
    async fn department_tree(
        &self,
        root: &DepartmentId,
    ) -> Result<Vec<DepartmentCount>, StoreError>;
    /// Up to `first` members of `root` or any department below it, by id, after `after`.
    async fn people_in_department(
        &self,
        root: &DepartmentId,
        first: u32,
        after: Option<&EmployeeId>,
    ) -> Result<Vec<Employee>, StoreError>;

    // ---- writes -----------------------------------------------------------------------------
    /// Adds the chart's departments and people that are not there yet (by id) and their lines;
    /// leaves existing ones as they are, so loading a chart twice changes nothing. Returns how
    /// many departments and people it added. `Conflict` when an e-mail belongs to another id.
    async fn import(&self, chart: &OrgChart) -> Result<usize, StoreError>;
    /// The whole org as a chart (backups).
    async fn export(&self) -> Result<OrgChart, StoreError>;
    /// Applies one reorganisation in one transaction, dated `on`. `Refused` for a cycle,
    /// `NotFound` for unknown people or departments, `Conflict` when `expected_version` is given
    /// and the org has moved past it. Applying the same change twice changes nothing the
    /// second time.
    async fn reorganise(
        &self,
        change: &Reorg,
        expected_version: Option<u64>,
        on: NaiveDate,
    ) -> Result<ReorgOutcome, StoreError>;
    /// How many reorganisations changed the org so far.
    async fn org_version(&self) -> Result<u64, StoreError>;

    // ---- operations -------------------------------------------------------------------------
    /// A trivial round trip, for readiness.
    async fn ping(&self) -> Result<(), StoreError>;
    /// `neo4j` or `sqlite`: the engine label in metrics and probes.
    fn engine(&self) -> &'static str;
}

/// Runs one store call under [`CALL_TIMEOUT`] and records it, labelled with its named query.
pub(crate) async fn instrumented<T>(
    engine: &'static str,
    operation: &'static str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    instrumented_within(CALL_TIMEOUT, engine, operation, call).await
}

/// [`instrumented`] with another timeout.
pub(crate) async fn instrumented_within<T>(
    timeout: Duration,
    engine: &'static str,
    operation: &'static str,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let timer = StoreCallTimer::start(crate::NAME, engine, operation);
    let in_flight = crate::metrics::InFlight::enter(engine);
    let result = match tokio::time::timeout(timeout, call).await {
        Ok(result) => result,
        Err(_) => Err(StoreError::Unavailable(format!(
            "{engine} {operation} timed out after {timeout:?}"
        ))),
    };
    drop(in_flight);
    timer.finish(result)
}

/// [`instrumented`] for a batch read: no keys means no rows, with no store call and no metric.
pub(crate) async fn instrumented_batch<K, T>(
    engine: &'static str,
    operation: &'static str,
    keys: &[K],
    call: impl Future<Output = Result<Vec<T>, StoreError>>,
) -> Result<Vec<T>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    instrumented(engine, operation, call).await
}

/// A stored value that fails the domain rules; only a bug or a manual edit produces one.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Other(format!("corrupt data: {what}"))
}
