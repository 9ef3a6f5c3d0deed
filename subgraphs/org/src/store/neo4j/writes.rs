//! Writes on Neo4j: loading and exporting a whole chart, and the three reorganisations.
//!
//! A reorganisation is one write transaction: it takes the org lock (a write to the `OrgMeta`
//! node), checks the change with the lock held (existence, cycles, already done), then checks
//! the expected version, applies the change, and bumps the version. A change already in effect
//! is answered "unchanged" before the version is compared, so a retried request whose first
//! attempt committed reports success instead of a conflict.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use neo4rs::{BoltType, Txn, query};

use super::{Neo4jStore, classify, collect, cypher, get, run_all, strings};
use crate::domain::{
    DepartmentId, DepartmentRecord, Email, EmployeeId, EmployeeRecord, OrgChart, PersonName, Reorg,
    ReorgOutcome, Title,
};
use crate::store::{StoreError, corrupt};

/// People per import transaction: big enough to amortise the round trip, small enough for the
/// server's transaction memory.
const IMPORT_BATCH: usize = 5_000;

pub(super) async fn import(store: &Neo4jStore, chart: &OrgChart) -> Result<usize, StoreError> {
    let chart = chart
        .clone()
        .ordered()
        .map_err(|e| StoreError::Refused(e.to_string()))?;
    let department_ids: Vec<&str> = chart.departments.iter().map(|d| d.id.as_str()).collect();
    let employee_ids: Vec<&str> = chart.employees.iter().map(|e| e.id.as_str()).collect();
    let rows = store
        .read(
            query(cypher::EXISTING_IDS)
                .param("departments", strings(&department_ids))
                .param("employees", strings(&employee_ids)),
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| corrupt("no row from existing_ids"))?;
    let have_departments: HashSet<String> = get::<Vec<String>>(row, "departments")?
        .into_iter()
        .collect();
    let have_employees: HashSet<String> =
        get::<Vec<String>>(row, "employees")?.into_iter().collect();

    let departments: Vec<BoltType> = chart
        .departments
        .iter()
        .filter(|d| !have_departments.contains(d.id.as_str()))
        .map(department_row)
        .collect();
    let mut added = departments.len();
    if !departments.is_empty() {
        write_batch(store, cypher::IMPORT_DEPARTMENTS, departments).await?;
    }
    let employees: Vec<BoltType> = chart
        .employees
        .iter()
        .filter(|e| !have_employees.contains(e.id.as_str()))
        .map(employee_row)
        .collect();
    added += employees.len();
    for batch in employees.chunks(IMPORT_BATCH) {
        write_batch(store, cypher::IMPORT_EMPLOYEES, batch.to_vec()).await?;
    }
    Ok(added)
}

fn department_row(d: &DepartmentRecord) -> BoltType {
    HashMap::from([
        ("id", BoltType::from(d.id.as_str())),
        ("name", BoltType::from(d.name.as_str())),
        (
            "parent",
            BoltType::from(d.parent.as_ref().map(|p| p.as_str())),
        ),
    ])
    .into()
}

fn employee_row(e: &EmployeeRecord) -> BoltType {
    HashMap::from([
        ("id", BoltType::from(e.id.as_str())),
        ("name", BoltType::from(e.name.as_str())),
        ("email", BoltType::from(e.email.as_str())),
        ("title", BoltType::from(e.title.as_str())),
        ("department", BoltType::from(e.department.as_str())),
        ("role", BoltType::from(e.role.as_str())),
        (
            "manager",
            BoltType::from(e.manager.as_ref().map(|m| m.as_str())),
        ),
        ("reports_since", BoltType::from(e.reports_since.to_string())),
        ("member_since", BoltType::from(e.member_since.to_string())),
    ])
    .into()
}

/// Runs a multi-statement import file over `rows` in one write transaction, retried.
async fn write_batch(
    store: &Neo4jStore,
    file: &str,
    rows: Vec<BoltType>,
) -> Result<(), StoreError> {
    let rows = BoltType::from(rows);
    store
        .retrying(|| async {
            let mut txn = store.begin_write().await?;
            run_all(&mut txn, file, &[("rows", rows.clone())]).await?;
            store.commit(txn).await
        })
        .await
}

pub(super) async fn export(store: &Neo4jStore) -> Result<OrgChart, StoreError> {
    let rows = store.read(query(cypher::EXPORT_DEPARTMENTS)).await?;
    let departments = rows
        .iter()
        .map(|row| {
            let d = super::department(row)?;
            Ok(DepartmentRecord {
                id: d.id,
                name: d.name,
                parent: d.parent,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let rows = store.read(query(cypher::EXPORT_EMPLOYEES)).await?;
    let date = |raw: String| -> Result<NaiveDate, StoreError> {
        raw.parse().map_err(|_| corrupt(format!("date {raw:?}")))
    };
    let employees = rows
        .iter()
        .map(|row| {
            Ok(EmployeeRecord {
                id: EmployeeId::parse(&get::<String>(row, "id")?).map_err(corrupt)?,
                name: PersonName::parse(&get::<String>(row, "name")?).map_err(corrupt)?,
                email: Email::parse(&get::<String>(row, "email")?).map_err(corrupt)?,
                title: Title::parse(&get::<String>(row, "title")?).map_err(corrupt)?,
                department: DepartmentId::parse(&get::<String>(row, "department")?)
                    .map_err(corrupt)?,
                role: get::<String>(row, "role")?.parse().map_err(corrupt)?,
                manager: get::<Option<String>>(row, "manager")?
                    .map(|m| EmployeeId::parse(&m))
                    .transpose()
                    .map_err(corrupt)?,
                reports_since: date(get(row, "reports_since")?)?,
                member_since: date(get(row, "member_since")?)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(OrgChart {
        departments,
        employees,
    })
}

pub(super) async fn reorganise(
    store: &Neo4jStore,
    change: &Reorg,
    expected_version: Option<u64>,
    on: NaiveDate,
) -> Result<ReorgOutcome, StoreError> {
    store
        .retrying(|| async {
            let mut txn = store.begin_write().await?;
            match attempt(&mut txn, change, expected_version, on).await {
                Ok(outcome) => {
                    store.commit(txn).await?;
                    Ok(outcome)
                }
                Err(e) => {
                    let _ = txn.rollback().await;
                    Err(e)
                }
            }
        })
        .await
}

async fn attempt(
    txn: &mut Txn,
    change: &Reorg,
    expected_version: Option<u64>,
    on: NaiveDate,
) -> Result<ReorgOutcome, StoreError> {
    txn.run(query(cypher::REORG_LOCK).param("token", uuid::Uuid::new_v4().to_string()))
        .await
        .map_err(classify)?;
    let needed = match change {
        Reorg::MoveEmployee {
            employee,
            new_manager,
        } => check_move(txn, employee, new_manager).await?,
        Reorg::MoveTeam {
            manager,
            new_manager,
        } => check_move(txn, manager, new_manager).await?,
        Reorg::MergeDepartments { from, into } => check_merge(txn, from, into).await?,
    };
    let version = current_version(txn).await?;
    if needed
        && let Some(expected) = expected_version
        && expected != version
    {
        return Err(StoreError::Conflict(format!(
            "the org is at version {version}, not {expected}: someone reorganised it meanwhile"
        )));
    }
    if needed {
        let since = on.to_string();
        match change {
            Reorg::MoveEmployee {
                employee,
                new_manager,
            } => {
                let params = [
                    ("employee", BoltType::from(employee.as_str())),
                    ("manager", BoltType::from(new_manager.as_str())),
                    ("since", BoltType::from(since.as_str())),
                ];
                run_all(txn, cypher::REORG_REPORTS_UP, &params).await?;
                run_all(txn, cypher::REORG_MOVE, &params).await?;
            }
            Reorg::MoveTeam {
                manager,
                new_manager,
            } => {
                let params = [
                    ("employee", BoltType::from(manager.as_str())),
                    ("manager", BoltType::from(new_manager.as_str())),
                    ("since", BoltType::from(since.as_str())),
                ];
                run_all(txn, cypher::REORG_MOVE, &params).await?;
            }
            Reorg::MergeDepartments { from, into } => {
                let params = [
                    ("from", BoltType::from(from.as_str())),
                    ("into", BoltType::from(into.as_str())),
                    ("since", BoltType::from(since.as_str())),
                ];
                run_all(txn, cypher::REORG_MERGE, &params).await?;
            }
        }
    }
    let rows = collect(
        txn,
        query(cypher::REORG_FINISH).param("bump", i64::from(needed)),
    )
    .await?;
    let version: i64 = get(
        rows.first().ok_or_else(|| corrupt("no OrgMeta"))?,
        "version",
    )?;
    Ok(ReorgOutcome {
        version: version as u64,
        changed: needed,
    })
}

async fn current_version(txn: &mut Txn) -> Result<u64, StoreError> {
    let rows = collect(txn, query(cypher::ORG_VERSION)).await?;
    let version: i64 = get(
        rows.first().ok_or_else(|| corrupt("no version"))?,
        "version",
    )?;
    Ok(version as u64)
}

/// Whether moving `who` under `new_manager` changes anything; `NotFound` / `Refused` otherwise.
async fn check_move(
    txn: &mut Txn,
    who: &EmployeeId,
    new_manager: &EmployeeId,
) -> Result<bool, StoreError> {
    let rows = collect(
        txn,
        query(cypher::REORG_CHECK_MOVE)
            .param("employee", who.as_str())
            .param("manager", new_manager.as_str()),
    )
    .await?;
    let row = rows.first().ok_or_else(|| corrupt("no row from check"))?;
    if !get::<bool>(row, "employee_exists")? {
        return Err(StoreError::NotFound(format!("employee {who}")));
    }
    if !get::<bool>(row, "manager_exists")? {
        return Err(StoreError::NotFound(format!("employee {new_manager}")));
    }
    if who == new_manager || get::<bool>(row, "manager_is_below")? {
        return Err(StoreError::Refused(format!(
            "{who} cannot report to {new_manager}: {new_manager} is in {who}'s own team \
             (that would make a cycle)"
        )));
    }
    let current: Option<String> = get(row, "current_manager")?;
    Ok(current.as_deref() != Some(new_manager.as_str()))
}

/// Whether merging `from` into `into` changes anything; `NotFound` / `Refused` otherwise.
async fn check_merge(
    txn: &mut Txn,
    from: &DepartmentId,
    into: &DepartmentId,
) -> Result<bool, StoreError> {
    if from == into {
        return Err(StoreError::Refused(format!(
            "cannot merge department {from} into itself"
        )));
    }
    let rows = collect(
        txn,
        query(cypher::REORG_CHECK_MERGE)
            .param("from", from.as_str())
            .param("into", into.as_str()),
    )
    .await?;
    let row = rows.first().ok_or_else(|| corrupt("no row from check"))?;
    if !get::<bool>(row, "into_exists")? {
        return Err(StoreError::NotFound(format!("department {into}")));
    }
    if !get::<bool>(row, "from_exists")? {
        let merged: Option<String> = get(row, "merged_into")?;
        return match merged {
            Some(done) if done == into.as_str() => Ok(false),
            _ => Err(StoreError::NotFound(format!("department {from}"))),
        };
    }
    if get::<bool>(row, "into_is_inside")? {
        return Err(StoreError::Refused(format!(
            "cannot merge {from} into {into}: {into} is inside {from} (that would make a cycle)"
        )));
    }
    Ok(true)
}
