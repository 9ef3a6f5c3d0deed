//! The Neo4j adapter of [`OrgStore`] (Neo4j 5.26 LTS, Aura in the cloud), over Bolt with the
//! `neo4rs` driver. The graph: `(:Employee)-[:REPORTS_TO {since}]->(:Employee)`,
//! `(:Employee)-[:MEMBER_OF {role, since}]->(:Department)`, `(:Department)-[:PART_OF]->(:Department)`,
//! and one `(:OrgMeta)` node holding the org version. Every query is a file of
//! `cypher/org/queries/` ([`cypher`]); constraints and indexes are the versioned migrations of
//! `cypher/org/migrations/` ([`migrate`]), applied at start-up.
//!
//! Non-obvious decisions:
//! - **Every call carries the latest write's bookmark.** With a `neo4j://` URL the driver routes
//!   reads to secondaries; the bookmark makes a secondary wait until it has applied this
//!   process's last write, so a reorganisation is visible to the next read (read-your-writes)
//!   without sending every read to the leader. Reads are auto-commit (one round trip); writes
//!   are explicit transactions.
//! - **Retries are ours.** The driver retries only its auto-commit calls, and not at all on a
//!   lost connection; here every call (reads, and writes, which are idempotent) is retried on
//!   transient errors, a leader switch or a dropped connection, with backoff, inside the call's
//!   timeout, so a server restart costs the calls in flight at that moment and nothing after.

pub mod cypher;
pub mod migrate;
pub mod profile;
mod reads;
mod writes;

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDate;
use neo4rs::{
    ConfigBuilder, Graph, Neo4jClientErrorKind, Neo4jErrorKind, Operation, Query, Row,
    SessionConfig, Txn,
};

use super::{OrgStore, StoreError, corrupt, instrumented, instrumented_batch, instrumented_within};
use crate::domain::{
    Department, DepartmentCount, DepartmentId, DepartmentName, Depth, Email, Employee, EmployeeId,
    OrgChart, PersonName, Reorg, ReorgOutcome, Span, Subordinate, SubordinateCursor, Title,
};

const ENGINE: &str = "neo4j";

/// Attempts of one call before its error is returned (inside the call's timeout).
const ATTEMPTS: u32 = 8;
/// The first retry's wait; each further one waits twice as long, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_millis(800);

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Neo4jSettings {
    pub url: String,
    pub user: String,
    pub password: String,
    pub database: String,
    pub max_connections: u32,
}

impl Neo4jSettings {
    /// A local test server (auth off) at `url`.
    pub fn local(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            user: "neo4j".to_owned(),
            password: String::new(),
            database: "neo4j".to_owned(),
            max_connections: 16,
        }
    }
}

pub struct Neo4jStore {
    graph: Graph,
    /// The database every session names (so a routed driver need not ask for the default).
    database: String,
    /// The bookmark of the latest write this process committed; every transaction starts with
    /// it, so no read can miss a write made before it.
    bookmark: Mutex<Option<String>>,
    /// Whether the server is Enterprise (Aura is): existence constraints need it.
    enterprise: bool,
}

impl Neo4jStore {
    /// Connects, checks the server answers, and applies the pending migrations.
    pub async fn connect(settings: &Neo4jSettings) -> Result<Self, StoreError> {
        let config = ConfigBuilder::default()
            .uri(settings.url.as_str())
            .user(settings.user.as_str())
            .password(settings.password.as_str())
            .db(settings.database.as_str())
            .max_connections(settings.max_connections as usize)
            .fetch_size(1000)
            .connection_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| StoreError::Other(format!("neo4j settings: {e}")))?;
        let graph = Graph::connect(config).map_err(classify)?;
        let mut store = Self {
            graph,
            database: settings.database.clone(),
            bookmark: Mutex::new(None),
            enterprise: false,
        };
        let edition = store
            .read(neo4rs::query(
                "CALL dbms.components() YIELD edition RETURN edition",
            ))
            .await?;
        store.enterprise = edition
            .first()
            .and_then(|row| row.get::<String>("edition").ok())
            .is_some_and(|e| e == "enterprise");
        migrate::run(&store).await?;
        crate::metrics::pool_size(ENGINE, settings.max_connections);
        Ok(store)
    }

    /// Whether the server is Enterprise Edition.
    pub fn enterprise(&self) -> bool {
        self.enterprise
    }

    /// The bookmark of the latest write this process committed.
    pub fn last_bookmark(&self) -> Option<String> {
        self.bookmark
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn bookmarks(&self) -> Option<Vec<String>> {
        self.last_bookmark().map(|b| vec![b])
    }

    fn remember(&self, bookmark: Option<String>) {
        if let Some(bookmark) = bookmark {
            *self.bookmark.lock().unwrap_or_else(|p| p.into_inner()) = Some(bookmark);
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or [`ATTEMPTS`] are spent.
    async fn retrying<T, Fut>(&self, mut attempt: impl FnMut() -> Fut) -> Result<T, StoreError>
    where
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let mut backoff = FIRST_BACKOFF;
        let mut tries = 1;
        loop {
            match attempt().await {
                Err(StoreError::Unavailable(why)) if tries < ATTEMPTS => {
                    tracing::debug!(error = %why, tries, "neo4j call retried");
                    crate::metrics::RETRIES.with_label_values(&[ENGINE]).inc();
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    tries += 1;
                }
                other => return other,
            }
        }
    }

    /// One read query's rows, waiting for the latest write: an auto-commit read carrying the
    /// bookmark, so one round trip (an explicit transaction would add BEGIN and COMMIT).
    async fn read(&self, query: Query) -> Result<Vec<Row>, StoreError> {
        self.retrying(|| async {
            let mut config = SessionConfig::builder().with_db(self.database.as_str().into());
            if let Some(bookmarks) = self.bookmarks() {
                config = config.with_bookmarks(bookmarks);
            }
            let mut session = self.graph.with_session(Some(config.build()));
            let mut stream = session
                .execute_read(query.clone())
                .await
                .map_err(classify)?;
            let mut rows = Vec::new();
            while let Some(row) = stream.next().await.map_err(classify)? {
                rows.push(row);
            }
            Ok(rows)
        })
        .await
    }

    /// Starts a write transaction after the latest write.
    async fn begin_write(&self) -> Result<Txn, StoreError> {
        self.graph
            .start_txn_as(Operation::Write, self.bookmarks())
            .await
            .map_err(classify)
    }

    /// Commits a write transaction and keeps its bookmark.
    async fn commit(&self, txn: Txn) -> Result<(), StoreError> {
        let bookmark = txn.commit().await.map_err(classify)?;
        self.remember(bookmark);
        Ok(())
    }

    /// Runs a statement outside an explicit transaction (schema changes, `CALL … IN
    /// TRANSACTIONS`), with the driver's own retries.
    async fn run_auto_commit(&self, statement: &str) -> Result<(), StoreError> {
        self.graph
            .run(neo4rs::query(statement))
            .await
            .map(|_| ())
            .map_err(classify)
    }

    /// Deletes the whole org (the backup drill's disaster).
    pub async fn wipe(&self) -> Result<(), StoreError> {
        self.run_auto_commit(cypher::WIPE).await
    }
}

/// Every row of `query` in `txn`.
async fn collect(txn: &mut Txn, query: Query) -> Result<Vec<Row>, StoreError> {
    let mut stream = txn.execute(query).await.map_err(classify)?;
    let mut rows = Vec::new();
    while let Some(row) = stream.next(txn.handle()).await.map_err(classify)? {
        rows.push(row);
    }
    Ok(rows)
}

/// Runs every statement of a multi-statement file in `txn`, each with all of `params`.
async fn run_all(
    txn: &mut Txn,
    file: &str,
    params: &[(&str, neo4rs::BoltType)],
) -> Result<(), StoreError> {
    for statement in cypher::statements(file) {
        let mut query = neo4rs::query(statement);
        for (name, value) in params {
            if statement.contains(&format!("${name}")) {
                query = query.param(name, value.clone());
            }
        }
        txn.run(query).await.map_err(classify)?;
    }
    Ok(())
}

/// Classifies a driver error: what may succeed on a retry is `Unavailable`.
fn classify(err: neo4rs::Error) -> StoreError {
    use neo4rs::Error as E;
    match &err {
        E::Neo4j(e) if e.code() == "Neo.ClientError.Schema.ConstraintValidationFailed" => {
            StoreError::Conflict(e.message().to_owned())
        }
        E::Neo4j(e)
            if matches!(
                e.kind(),
                Neo4jErrorKind::Transient
                    | Neo4jErrorKind::Client(Neo4jClientErrorKind::SessionExpired)
            ) =>
        {
            StoreError::Unavailable(err.to_string())
        }
        E::IOError { .. }
        | E::ConnectionError
        | E::ConnectionTimedOut
        | E::ConnectionClosed(_)
        | E::IncompleteBoltExchange
        | E::ServerUnavailableError(_)
        | E::RoutingTableError(_)
        | E::RoutingTableRefreshFailed(_)
        | E::RequestIgnoredError => StoreError::Unavailable(err.to_string()),
        _ => StoreError::Other(err.to_string()),
    }
}

/// An employee as the queries return it: `e {.id, .name, .email, .title, department, role}`.
#[derive(serde::Deserialize)]
struct EmployeeRow {
    id: String,
    name: String,
    email: String,
    title: String,
    department: String,
    role: String,
}

impl EmployeeRow {
    fn employee(self) -> Result<Employee, StoreError> {
        Ok(Employee {
            id: EmployeeId::parse(&self.id).map_err(corrupt)?,
            name: PersonName::parse(&self.name).map_err(corrupt)?,
            email: Email::parse(&self.email).map_err(corrupt)?,
            title: Title::parse(&self.title).map_err(corrupt)?,
            department: DepartmentId::parse(&self.department).map_err(corrupt)?,
            role: self.role.parse().map_err(corrupt)?,
        })
    }
}

fn get<'r, T: serde::Deserialize<'r>>(row: &'r Row, column: &str) -> Result<T, StoreError> {
    row.get(column)
        .map_err(|e| corrupt(format!("column {column}: {e}")))
}

fn employee(row: &Row) -> Result<Employee, StoreError> {
    get::<EmployeeRow>(row, "employee")?.employee()
}

fn employee_id(row: &Row, column: &str) -> Result<EmployeeId, StoreError> {
    EmployeeId::parse(&get::<String>(row, column)?).map_err(corrupt)
}

fn department(row: &Row) -> Result<Department, StoreError> {
    Ok(Department {
        id: DepartmentId::parse(&get::<String>(row, "id")?).map_err(corrupt)?,
        name: DepartmentName::parse(&get::<String>(row, "name")?).map_err(corrupt)?,
        parent: get::<Option<String>>(row, "parent")?
            .map(|p| DepartmentId::parse(&p))
            .transpose()
            .map_err(corrupt)?,
    })
}

fn strings<T: AsRef<str>>(items: &[T]) -> Vec<String> {
    items.iter().map(|i| i.as_ref().to_owned()).collect()
}

#[async_trait]
impl OrgStore for Neo4jStore {
    async fn employees_by_ids(&self, ids: &[EmployeeId]) -> Result<Vec<Employee>, StoreError> {
        instrumented_batch(ENGINE, "employees_by_ids", ids, reads::by_ids(self, ids)).await
    }

    async fn employees_by_emails(&self, emails: &[Email]) -> Result<Vec<Employee>, StoreError> {
        instrumented_batch(
            ENGINE,
            "employees_by_emails",
            emails,
            reads::by_emails(self, emails),
        )
        .await
    }

    async fn managers_of(
        &self,
        ids: &[EmployeeId],
    ) -> Result<Vec<(EmployeeId, Employee)>, StoreError> {
        instrumented_batch(
            ENGINE,
            "managers_of",
            ids,
            reads::related(self, cypher::MANAGERS_OF, ids),
        )
        .await
    }

    async fn direct_reports_of(
        &self,
        ids: &[EmployeeId],
    ) -> Result<Vec<(EmployeeId, Employee)>, StoreError> {
        instrumented_batch(
            ENGINE,
            "direct_reports_of",
            ids,
            reads::related(self, cypher::DIRECT_REPORTS_OF, ids),
        )
        .await
    }

    async fn spans_of_control(
        &self,
        ids: &[EmployeeId],
    ) -> Result<Vec<(EmployeeId, Span)>, StoreError> {
        instrumented_batch(
            ENGINE,
            "spans_of_control",
            ids,
            reads::spans_of_control(self, ids),
        )
        .await
    }

    async fn subordinates(
        &self,
        manager: &EmployeeId,
        max_depth: Depth,
        first: u32,
        after: Option<&SubordinateCursor>,
    ) -> Result<Vec<Subordinate>, StoreError> {
        instrumented(
            ENGINE,
            "subordinates",
            reads::subordinates(self, manager, max_depth, first, after),
        )
        .await
    }

    async fn chain_of_command(&self, employee: &EmployeeId) -> Result<Vec<Employee>, StoreError> {
        instrumented(
            ENGINE,
            "chain_of_command",
            reads::chain_of_command(self, employee),
        )
        .await
    }

    async fn lowest_common_manager(
        &self,
        a: &EmployeeId,
        b: &EmployeeId,
    ) -> Result<Option<Employee>, StoreError> {
        instrumented(
            ENGINE,
            "lowest_common_manager",
            reads::lowest_common_manager(self, a, b),
        )
        .await
    }

    async fn departments_by_ids(
        &self,
        ids: &[DepartmentId],
    ) -> Result<Vec<Department>, StoreError> {
        instrumented_batch(
            ENGINE,
            "departments_by_ids",
            ids,
            reads::departments(self, cypher::DEPARTMENTS_BY_IDS, ids),
        )
        .await
    }

    async fn sub_departments_of(
        &self,
        ids: &[DepartmentId],
    ) -> Result<Vec<Department>, StoreError> {
        instrumented_batch(
            ENGINE,
            "sub_departments_of",
            ids,
            reads::departments(self, cypher::SUB_DEPARTMENTS_OF, ids),
        )
        .await
    }

    async fn department_heads(
        &self,
        ids: &[DepartmentId],
    ) -> Result<Vec<(DepartmentId, Employee)>, StoreError> {
        instrumented_batch(
            ENGINE,
            "department_heads",
            ids,
            reads::department_heads(self, ids),
        )
        .await
    }

    async fn department_tree(
        &self,
        root: &DepartmentId,
    ) -> Result<Vec<DepartmentCount>, StoreError> {
        instrumented(
            ENGINE,
            "department_tree",
            reads::department_tree(self, root),
        )
        .await
    }

    async fn people_in_department(
        &self,
        root: &DepartmentId,
        first: u32,
        after: Option<&EmployeeId>,
    ) -> Result<Vec<Employee>, StoreError> {
        instrumented(
            ENGINE,
            "people_in_department",
            reads::people_in_department(self, root, first, after),
        )
        .await
    }

    async fn import(&self, chart: &OrgChart) -> Result<usize, StoreError> {
        // A large chart (the benchmark's 100 k people) takes longer than one call's timeout;
        // each batch is its own transaction, and a repeat adds only what is missing.
        let timer = polygate_kit::metrics::StoreCallTimer::start(crate::NAME, ENGINE, "import");
        timer.finish(writes::import(self, chart).await)
    }

    async fn export(&self) -> Result<OrgChart, StoreError> {
        let timer = polygate_kit::metrics::StoreCallTimer::start(crate::NAME, ENGINE, "export");
        timer.finish(writes::export(self).await)
    }

    async fn reorganise(
        &self,
        change: &Reorg,
        expected_version: Option<u64>,
        on: NaiveDate,
    ) -> Result<ReorgOutcome, StoreError> {
        instrumented_within(
            super::REORG_TIMEOUT,
            ENGINE,
            "reorganise",
            writes::reorganise(self, change, expected_version, on),
        )
        .await
    }

    async fn org_version(&self) -> Result<u64, StoreError> {
        instrumented(ENGINE, "org_version", async {
            let rows = self.read(neo4rs::query(cypher::ORG_VERSION)).await?;
            let version: i64 = rows.first().map_or(Ok(0), |r| get(r, "version"))?;
            Ok(version as u64)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        instrumented(ENGINE, "ping", async {
            self.read(neo4rs::query("RETURN 1 AS one"))
                .await
                .map(|_| ())
        })
        .await
    }

    fn engine(&self) -> &'static str {
        ENGINE
    }
}
