//! Reads on SQLite: batch look-ups through `json_each`, subtree questions as range scans over
//! `path`, upward walks as recursive CTEs bounded by `Depth::MAX`.

use sqlx::Row as _;

use super::{
    EMPLOYEE_COLUMNS, SqliteStore, department, department_count, employee, employee_id, from_sqlx,
    json_array,
};
use crate::domain::{
    Department, DepartmentCount, DepartmentId, Depth, Email, Employee, EmployeeId, Span,
    Subordinate, SubordinateCursor,
};
use crate::store::StoreError;

pub(super) async fn by_ids(
    store: &SqliteStore,
    ids: &[EmployeeId],
) -> Result<Vec<Employee>, StoreError> {
    let sql = format!(
        "SELECT {EMPLOYEE_COLUMNS} FROM employees e
         WHERE e.id IN (SELECT value FROM json_each(?1))"
    );
    let rows = sqlx::query(&sql)
        .bind(json_array(ids))
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    rows.iter().map(employee).collect()
}

pub(super) async fn by_emails(
    store: &SqliteStore,
    emails: &[Email],
) -> Result<Vec<Employee>, StoreError> {
    let sql = format!(
        "SELECT {EMPLOYEE_COLUMNS} FROM employees e
         WHERE e.email IN (SELECT value FROM json_each(?1))"
    );
    let rows = sqlx::query(&sql)
        .bind(json_array(emails))
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    rows.iter().map(employee).collect()
}

pub(super) async fn managers_of(
    store: &SqliteStore,
    ids: &[EmployeeId],
) -> Result<Vec<(EmployeeId, Employee)>, StoreError> {
    let sql = format!(
        "SELECT r.id AS of_id, {EMPLOYEE_COLUMNS} FROM employees r
         JOIN employees e ON e.id = r.manager_id
         WHERE r.id IN (SELECT value FROM json_each(?1))"
    );
    let rows = sqlx::query(&sql)
        .bind(json_array(ids))
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    rows.iter()
        .map(|row| Ok((employee_id(row, "of_id")?, employee(row)?)))
        .collect()
}

pub(super) async fn direct_reports_of(
    store: &SqliteStore,
    ids: &[EmployeeId],
) -> Result<Vec<(EmployeeId, Employee)>, StoreError> {
    let sql = format!(
        "SELECT e.manager_id AS of_id, {EMPLOYEE_COLUMNS} FROM employees e
         WHERE e.manager_id IN (SELECT value FROM json_each(?1))
         ORDER BY e.manager_id, e.id"
    );
    let rows = sqlx::query(&sql)
        .bind(json_array(ids))
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    rows.iter()
        .map(|row| Ok((employee_id(row, "of_id")?, employee(row)?)))
        .collect()
}

pub(super) async fn spans_of_control(
    store: &SqliteStore,
    ids: &[EmployeeId],
) -> Result<Vec<(EmployeeId, Span)>, StoreError> {
    let rows = sqlx::query(include_str!(
        "../../../../../sql/org/sqlite/spans_of_control.sql"
    ))
    .bind(json_array(ids))
    .fetch_all(&store.pool)
    .await
    .map_err(from_sqlx)?;
    rows.iter()
        .map(|row| {
            let direct: i64 = row.try_get("direct").map_err(from_sqlx)?;
            let total: i64 = row.try_get("total").map_err(from_sqlx)?;
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

pub(super) async fn subordinates(
    store: &SqliteStore,
    manager: &EmployeeId,
    max_depth: Depth,
    first: u32,
    after: Option<&SubordinateCursor>,
) -> Result<Vec<Subordinate>, StoreError> {
    let (after_depth, after_id) = after.map_or((0, ""), |c| (c.depth, c.id.as_str()));
    let rows = sqlx::query(include_str!(
        "../../../../../sql/org/sqlite/subordinates.sql"
    ))
    .bind(manager.as_str())
    .bind(i64::from(max_depth.get()))
    .bind(i64::from(after_depth))
    .bind(after_id)
    .bind(i64::from(first.min(super::super::MAX_PAGE)))
    .fetch_all(&store.pool)
    .await
    .map_err(from_sqlx)?;
    rows.iter()
        .map(|row| {
            let depth: i64 = row.try_get("relative_depth").map_err(from_sqlx)?;
            Ok(Subordinate {
                employee: employee(row)?,
                depth: depth as u32,
            })
        })
        .collect()
}

pub(super) async fn chain_of_command(
    store: &SqliteStore,
    id: &EmployeeId,
) -> Result<Vec<Employee>, StoreError> {
    let rows = sqlx::query(include_str!(
        "../../../../../sql/org/sqlite/chain_of_command.sql"
    ))
    .bind(id.as_str())
    .bind(i64::from(Depth::MAX))
    .fetch_all(&store.pool)
    .await
    .map_err(from_sqlx)?;
    rows.iter().map(employee).collect()
}

pub(super) async fn lowest_common_manager(
    store: &SqliteStore,
    a: &EmployeeId,
    b: &EmployeeId,
) -> Result<Option<Employee>, StoreError> {
    let row = sqlx::query(include_str!(
        "../../../../../sql/org/sqlite/lowest_common_manager.sql"
    ))
    .bind(a.as_str())
    .bind(b.as_str())
    .bind(i64::from(Depth::MAX))
    .fetch_optional(&store.pool)
    .await
    .map_err(from_sqlx)?;
    row.as_ref().map(employee).transpose()
}

pub(super) async fn departments_by_ids(
    store: &SqliteStore,
    ids: &[DepartmentId],
) -> Result<Vec<Department>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, parent_id FROM departments
         WHERE id IN (SELECT value FROM json_each(?1))",
    )
    .bind(json_array(ids))
    .fetch_all(&store.pool)
    .await
    .map_err(from_sqlx)?;
    rows.iter().map(department).collect()
}

pub(super) async fn sub_departments_of(
    store: &SqliteStore,
    ids: &[DepartmentId],
) -> Result<Vec<Department>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, parent_id FROM departments
         WHERE parent_id IN (SELECT value FROM json_each(?1))
         ORDER BY parent_id, id",
    )
    .bind(json_array(ids))
    .fetch_all(&store.pool)
    .await
    .map_err(from_sqlx)?;
    rows.iter().map(department).collect()
}

pub(super) async fn department_heads(
    store: &SqliteStore,
    ids: &[DepartmentId],
) -> Result<Vec<(DepartmentId, Employee)>, StoreError> {
    let sql = format!(
        "SELECT {EMPLOYEE_COLUMNS} FROM employees e
         WHERE e.role = 'head' AND e.department_id IN (SELECT value FROM json_each(?1))"
    );
    let rows = sqlx::query(&sql)
        .bind(json_array(ids))
        .fetch_all(&store.pool)
        .await
        .map_err(from_sqlx)?;
    rows.iter()
        .map(|row| {
            let head = employee(row)?;
            Ok((head.department.clone(), head))
        })
        .collect()
}

pub(super) async fn department_tree(
    store: &SqliteStore,
    root: &DepartmentId,
) -> Result<Vec<DepartmentCount>, StoreError> {
    let rows = sqlx::query(include_str!(
        "../../../../../sql/org/sqlite/department_tree.sql"
    ))
    .bind(root.as_str())
    .bind(i64::from(Depth::MAX))
    .fetch_all(&store.pool)
    .await
    .map_err(from_sqlx)?;
    let rows = rows
        .iter()
        .map(department_count)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(DepartmentCount::with_totals(rows))
}

pub(super) async fn people_in_department(
    store: &SqliteStore,
    root: &DepartmentId,
    first: u32,
    after: Option<&EmployeeId>,
) -> Result<Vec<Employee>, StoreError> {
    let rows = sqlx::query(include_str!(
        "../../../../../sql/org/sqlite/people_in_department.sql"
    ))
    .bind(root.as_str())
    .bind(i64::from(Depth::MAX))
    .bind(after.map_or("", |a| a.as_str()))
    .bind(i64::from(first.min(super::super::MAX_PAGE)))
    .fetch_all(&store.pool)
    .await
    .map_err(from_sqlx)?;
    rows.iter().map(employee).collect()
}
