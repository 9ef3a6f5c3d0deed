//! Reads on Neo4j: each port call is one named query of `cypher/org/queries/`, its keys passed
//! as one list parameter (`UNWIND $ids`), so a batch of any size is one round trip.

use neo4rs::query;

use super::{Neo4jStore, cypher, department, employee, employee_id, get, strings};
use crate::domain::{
    Department, DepartmentCount, DepartmentId, Depth, Email, Employee, EmployeeId, Span,
    Subordinate, SubordinateCursor,
};
use crate::store::{MAX_PAGE, StoreError, corrupt};

pub(super) async fn by_ids(
    store: &Neo4jStore,
    ids: &[EmployeeId],
) -> Result<Vec<Employee>, StoreError> {
    let rows = store
        .read(query(cypher::EMPLOYEES_BY_IDS).param("ids", strings(ids)))
        .await?;
    rows.iter().map(employee).collect()
}

pub(super) async fn by_emails(
    store: &Neo4jStore,
    emails: &[Email],
) -> Result<Vec<Employee>, StoreError> {
    let rows = store
        .read(query(cypher::EMPLOYEES_BY_EMAILS).param("emails", strings(emails)))
        .await?;
    rows.iter().map(employee).collect()
}

/// Runs a query returning `(of, employee)` rows for the employees `ids`.
pub(super) async fn related(
    store: &Neo4jStore,
    cypher: &str,
    ids: &[EmployeeId],
) -> Result<Vec<(EmployeeId, Employee)>, StoreError> {
    let rows = store.read(query(cypher).param("ids", strings(ids))).await?;
    rows.iter()
        .map(|row| Ok((employee_id(row, "of")?, employee(row)?)))
        .collect()
}

pub(super) async fn spans_of_control(
    store: &Neo4jStore,
    ids: &[EmployeeId],
) -> Result<Vec<(EmployeeId, Span)>, StoreError> {
    let rows = store
        .read(query(cypher::SPANS_OF_CONTROL).param("ids", strings(ids)))
        .await?;
    rows.iter()
        .map(|row| {
            let direct: i64 = get(row, "direct")?;
            let total: i64 = get(row, "total")?;
            Ok((
                employee_id(row, "id")?,
                Span {
                    direct: direct as u64,
                    total: total as u64,
                },
            ))
        })
        .collect()
}

/// The subordinates query with its depth bound written in (a quantifier cannot be a
/// parameter; `Depth` is 1 to 64, so only 64 texts, and plans, exist).
pub fn subordinates_query(max_depth: Depth) -> String {
    cypher::SUBORDINATES.replace("__MAX_DEPTH__", &max_depth.get().to_string())
}

pub(super) async fn subordinates(
    store: &Neo4jStore,
    manager: &EmployeeId,
    max_depth: Depth,
    first: u32,
    after: Option<&SubordinateCursor>,
) -> Result<Vec<Subordinate>, StoreError> {
    let (after_depth, after_id) = after.map_or((0, ""), |c| (c.depth, c.id.as_str()));
    let rows = store
        .read(
            query(&subordinates_query(max_depth))
                .param("id", manager.as_str())
                .param("afterDepth", i64::from(after_depth))
                .param("afterId", after_id)
                .param("first", i64::from(first.min(MAX_PAGE))),
        )
        .await?;
    rows.iter()
        .map(|row| {
            let depth: i64 = get(row, "depth")?;
            Ok(Subordinate {
                employee: employee(row)?,
                depth: u32::try_from(depth).map_err(corrupt)?,
            })
        })
        .collect()
}

pub(super) async fn chain_of_command(
    store: &Neo4jStore,
    id: &EmployeeId,
) -> Result<Vec<Employee>, StoreError> {
    let rows = store
        .read(query(cypher::CHAIN_OF_COMMAND).param("id", id.as_str()))
        .await?;
    rows.iter().map(employee).collect()
}

pub(super) async fn lowest_common_manager(
    store: &Neo4jStore,
    a: &EmployeeId,
    b: &EmployeeId,
) -> Result<Option<Employee>, StoreError> {
    let rows = store
        .read(
            query(cypher::LOWEST_COMMON_MANAGER)
                .param("a", a.as_str())
                .param("b", b.as_str()),
        )
        .await?;
    rows.first().map(employee).transpose()
}

pub(super) async fn departments(
    store: &Neo4jStore,
    cypher: &str,
    ids: &[DepartmentId],
) -> Result<Vec<Department>, StoreError> {
    let rows = store.read(query(cypher).param("ids", strings(ids))).await?;
    rows.iter().map(department).collect()
}

pub(super) async fn department_heads(
    store: &Neo4jStore,
    ids: &[DepartmentId],
) -> Result<Vec<(DepartmentId, Employee)>, StoreError> {
    let rows = store
        .read(query(cypher::DEPARTMENT_HEADS).param("ids", strings(ids)))
        .await?;
    rows.iter()
        .map(|row| {
            let head = employee(row)?;
            Ok((head.department.clone(), head))
        })
        .collect()
}

pub(super) async fn department_tree(
    store: &Neo4jStore,
    root: &DepartmentId,
) -> Result<Vec<DepartmentCount>, StoreError> {
    let rows = store
        .read(query(cypher::DEPARTMENT_TREE).param("id", root.as_str()))
        .await?;
    let rows = rows
        .iter()
        .map(|row| {
            let depth: i64 = get(row, "depth")?;
            let members: i64 = get(row, "members")?;
            Ok(DepartmentCount {
                department: department(row)?,
                depth: depth as u32,
                head_count: members as u64,
                total_head_count: 0,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(DepartmentCount::with_totals(rows))
}

pub(super) async fn people_in_department(
    store: &Neo4jStore,
    root: &DepartmentId,
    first: u32,
    after: Option<&EmployeeId>,
) -> Result<Vec<Employee>, StoreError> {
    let rows = store
        .read(
            query(cypher::PEOPLE_IN_DEPARTMENT)
                .param("id", root.as_str())
                .param("after", after.map_or("", |a| a.as_str()))
                .param("first", i64::from(first.min(MAX_PAGE))),
        )
        .await?;
    rows.iter().map(employee).collect()
}
