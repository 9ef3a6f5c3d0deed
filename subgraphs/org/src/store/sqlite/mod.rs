//! The embedded adapter of [`OrgStore`]: one SQLite file. The hierarchy is an adjacency list
//! (`manager_id`, `parent_id`) plus a materialised path per employee (`sql/org/sqlite/`).
//!
//! Non-obvious: subtree questions (subordinates, span of control) are index range scans over
//! `path`, not recursive CTEs, because a CTE walks the tree one level per step with a probe per
//! row while a range scan reads the subtree contiguously; the price is that moving a team
//! rewrites its members' paths (one `UPDATE` over the same range). Upward walks (chain of
//! command, lowest common manager) and the small department tree use recursive CTEs, bounded by
//! [`Depth::MAX`](crate::domain::Depth::MAX). Every write runs in a transaction begun with
//! `BEGIN IMMEDIATE`, so reorganisations serialise on SQLite's one writer and check the tree
//! with the write lock held.

mod migrate;
mod reads;
mod writes;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use chrono::NaiveDate;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Executor as _, Row as _, Sqlite, SqlitePool, Transaction};

use super::{OrgStore, StoreError, corrupt, instrumented, instrumented_batch, instrumented_within};
use crate::domain::{
    Department, DepartmentCount, DepartmentId, DepartmentName, Depth, Email, Employee, EmployeeId,
    OrgChart, PersonName, Reorg, ReorgOutcome, Span, Subordinate, SubordinateCursor, Title,
};

pub use migrate::{MIGRATIONS, run as migrate};

const ENGINE: &str = "sqlite";

/// Connections in the pool: SQLite has one writer, readers run beside it in WAL mode.
pub const MAX_CONNECTIONS: u32 = 4;

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating the file and its folders if needed) and migrates the database at `path`.
    pub async fn open(path: &Path) -> Result<Self, sqlx::Error> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(3))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options)
            .await?;
        migrate::run(&pool).await?;
        crate::metrics::pool_size(ENGINE, MAX_CONNECTIONS);
        Ok(Self { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// A write transaction holding the database's write lock from its first statement.
    async fn write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(from_sqlx)
    }

    /// Deletes every department and person (the backup drill's "disaster").
    pub async fn wipe(&self) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        // `Executor::execute` rather than `raw_sql`: the latter's future is not `Send` for every
        // lifetime, which the port's `async_trait` futures need.
        (&mut *tx)
            .execute(
                "DELETE FROM employees WHERE depth >= 0; DELETE FROM departments;
                 DELETE FROM department_merges; UPDATE org_meta SET version = 0;",
            )
            .await
            .map_err(from_sqlx)?;
        tx.commit().await.map_err(from_sqlx)
    }
}

/// The employee columns every read selects, for [`employee`].
const EMPLOYEE_COLUMNS: &str = "e.id, e.name, e.email, e.title, e.department_id, e.role";

fn employee(row: &SqliteRow) -> Result<Employee, StoreError> {
    let text = |column: &str| row.try_get::<String, _>(column).map_err(from_sqlx);
    Ok(Employee {
        id: EmployeeId::parse(&text("id")?).map_err(corrupt)?,
        name: PersonName::parse(&text("name")?).map_err(corrupt)?,
        email: Email::parse(&text("email")?).map_err(corrupt)?,
        title: Title::parse(&text("title")?).map_err(corrupt)?,
        department: DepartmentId::parse(&text("department_id")?).map_err(corrupt)?,
        role: text("role")?.parse().map_err(corrupt)?,
    })
}

fn department(row: &SqliteRow) -> Result<Department, StoreError> {
    let id: String = row.try_get("id").map_err(from_sqlx)?;
    let name: String = row.try_get("name").map_err(from_sqlx)?;
    let parent: Option<String> = row.try_get("parent_id").map_err(from_sqlx)?;
    Ok(Department {
        id: DepartmentId::parse(&id).map_err(corrupt)?,
        name: DepartmentName::parse(&name).map_err(corrupt)?,
        parent: parent
            .map(|p| DepartmentId::parse(&p))
            .transpose()
            .map_err(corrupt)?,
    })
}

fn employee_id(row: &SqliteRow, column: &str) -> Result<EmployeeId, StoreError> {
    let raw: String = row.try_get(column).map_err(from_sqlx)?;
    EmployeeId::parse(&raw).map_err(corrupt)
}

fn date(raw: &str) -> Result<NaiveDate, StoreError> {
    raw.parse().map_err(|_| corrupt(format!("date {raw:?}")))
}

/// `items` as one JSON array, for a `json_each(?)` parameter: a batch of any size is one bound
/// parameter (SQLite caps `?` placeholders).
fn json_array<T: AsRef<str>>(items: &[T]) -> String {
    serde_json::Value::from(items.iter().map(|i| i.as_ref()).collect::<Vec<_>>()).to_string()
}

/// Classifies a `sqlx` error.
fn from_sqlx(err: sqlx::Error) -> StoreError {
    use sqlx::Error as E;
    match &err {
        E::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_owned())
        }
        // SQLite busy / locked and their extended codes.
        E::Database(db)
            if matches!(
                db.code().as_deref(),
                Some("5" | "6" | "261" | "262" | "517" | "773")
            ) =>
        {
            StoreError::Unavailable(err.to_string())
        }
        E::Io(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed => {
            StoreError::Unavailable(err.to_string())
        }
        _ => StoreError::Other(err.to_string()),
    }
}

#[async_trait]
impl OrgStore for SqliteStore {
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
        instrumented_batch(ENGINE, "managers_of", ids, reads::managers_of(self, ids)).await
    }

    async fn direct_reports_of(
        &self,
        ids: &[EmployeeId],
    ) -> Result<Vec<(EmployeeId, Employee)>, StoreError> {
        instrumented_batch(
            ENGINE,
            "direct_reports_of",
            ids,
            reads::direct_reports_of(self, ids),
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
            reads::departments_by_ids(self, ids),
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
            reads::sub_departments_of(self, ids),
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
        // A large chart (the benchmark's 100 k people) takes longer than one call's timeout.
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
            let version: i64 = sqlx::query_scalar("SELECT version FROM org_meta WHERE id = 1")
                .fetch_one(&self.pool)
                .await
                .map_err(from_sqlx)?;
            Ok(version as u64)
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        instrumented(ENGINE, "ping", async {
            sqlx::query("SELECT 1")
                .execute(&self.pool)
                .await
                .map_err(from_sqlx)?;
            Ok(())
        })
        .await
    }

    fn engine(&self) -> &'static str {
        ENGINE
    }
}

/// The row of `DepartmentCount` the tree query returns, before totals are rolled up.
fn department_count(row: &SqliteRow) -> Result<DepartmentCount, StoreError> {
    let depth: i64 = row.try_get("depth").map_err(from_sqlx)?;
    let members: i64 = row.try_get("members").map_err(from_sqlx)?;
    Ok(DepartmentCount {
        department: department(row)?,
        depth: depth as u32,
        head_count: members as u64,
        total_head_count: 0,
    })
}
