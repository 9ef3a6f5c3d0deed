//! Writes on SQLite: loading and exporting a whole chart, and the three reorganisations, each in
//! one `BEGIN IMMEDIATE` transaction that checks the tree with the write lock held.

use chrono::NaiveDate;
use sqlx::{Row as _, Sqlite, Transaction};

use super::{SqliteStore, date, department, from_sqlx};
use crate::domain::{
    DepartmentId, Email, EmployeeId, EmployeeRecord, OrgChart, PersonName, Reorg, ReorgOutcome,
    Title,
};
use crate::store::{StoreError, corrupt};

pub(super) async fn import(store: &SqliteStore, chart: &OrgChart) -> Result<usize, StoreError> {
    let chart = chart
        .clone()
        .ordered()
        .map_err(|e| StoreError::Refused(e.to_string()))?;
    let mut tx = store.write().await?;
    let mut added = 0;
    for d in &chart.departments {
        let done = sqlx::query(
            "INSERT INTO departments (id, name, parent_id) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(d.id.as_str())
        .bind(d.name.as_str())
        .bind(d.parent.as_ref().map(|p| p.as_str()))
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        added += done.rows_affected() as usize;
    }
    for e in &chart.employees {
        // The path and depth come from the manager's row, inserted before (managers first).
        let done = sqlx::query(
            "INSERT INTO employees (id, email, name, title, manager_id, reports_since, path,
                                    depth, department_id, role, member_since)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, coalesce(m.path, '/') || ?1 || '/',
                    coalesce(m.depth + 1, 0), ?7, ?8, ?9
             FROM (SELECT 1) LEFT JOIN employees m ON m.id = ?5
             WHERE ?5 IS NULL OR m.id IS NOT NULL
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(e.id.as_str())
        .bind(e.email.as_str())
        .bind(e.name.as_str())
        .bind(e.title.as_str())
        .bind(e.manager.as_ref().map(|m| m.as_str()))
        .bind(e.reports_since.to_string())
        .bind(e.department.as_str())
        .bind(e.role.as_str())
        .bind(e.member_since.to_string())
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
        added += done.rows_affected() as usize;
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(added)
}

pub(super) async fn export(store: &SqliteStore) -> Result<OrgChart, StoreError> {
    let mut tx = store.pool.begin().await.map_err(from_sqlx)?;
    let departments = sqlx::query("SELECT id, name, parent_id FROM departments ORDER BY id")
        .fetch_all(&mut *tx)
        .await
        .map_err(from_sqlx)?
        .iter()
        .map(department)
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|d| crate::domain::DepartmentRecord {
            id: d.id,
            name: d.name,
            parent: d.parent,
        })
        .collect();
    let rows = sqlx::query(
        "SELECT id, email, name, title, manager_id, reports_since, department_id, role,
                member_since
         FROM employees ORDER BY depth, id",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(from_sqlx)?;
    let mut employees = Vec::with_capacity(rows.len());
    for row in &rows {
        let text = |c: &str| row.try_get::<String, _>(c).map_err(from_sqlx);
        let manager: Option<String> = row.try_get("manager_id").map_err(from_sqlx)?;
        employees.push(EmployeeRecord {
            id: EmployeeId::parse(&text("id")?).map_err(corrupt)?,
            name: PersonName::parse(&text("name")?).map_err(corrupt)?,
            email: Email::parse(&text("email")?).map_err(corrupt)?,
            title: Title::parse(&text("title")?).map_err(corrupt)?,
            department: DepartmentId::parse(&text("department_id")?).map_err(corrupt)?,
            role: text("role")?.parse().map_err(corrupt)?,
            manager: manager
                .map(|m| EmployeeId::parse(&m))
                .transpose()
                .map_err(corrupt)?,
            reports_since: date(&text("reports_since")?)?,
            member_since: date(&text("member_since")?)?,
        });
    }
    tx.commit().await.map_err(from_sqlx)?;
    Ok(OrgChart {
        departments,
        employees,
    })
}

/// An employee's place in the tree.
struct Place {
    manager: Option<String>,
    path: String,
    depth: i64,
}

async fn place(
    tx: &mut Transaction<'static, Sqlite>,
    id: &EmployeeId,
) -> Result<Place, StoreError> {
    let row = sqlx::query("SELECT manager_id, path, depth FROM employees WHERE id = ?1")
        .bind(id.as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(from_sqlx)?
        .ok_or_else(|| StoreError::NotFound(format!("employee {id}")))?;
    Ok(Place {
        manager: row.try_get("manager_id").map_err(from_sqlx)?,
        path: row.try_get("path").map_err(from_sqlx)?,
        depth: row.try_get("depth").map_err(from_sqlx)?,
    })
}

pub(super) async fn reorganise(
    store: &SqliteStore,
    change: &Reorg,
    expected_version: Option<u64>,
    on: NaiveDate,
) -> Result<ReorgOutcome, StoreError> {
    let mut tx = store.write().await?;
    let version: i64 = sqlx::query_scalar("SELECT version FROM org_meta WHERE id = 1")
        .fetch_one(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    let version = version as u64;
    // A change already in effect is "unchanged" before any version check, so a retried request
    // whose first attempt committed reports success rather than a conflict.
    let needed = match change {
        Reorg::MoveEmployee {
            employee,
            new_manager,
        } => check_move(&mut tx, employee, new_manager).await?,
        Reorg::MoveTeam {
            manager,
            new_manager,
        } => check_move(&mut tx, manager, new_manager).await?,
        Reorg::MergeDepartments { from, into } => check_merge(&mut tx, from, into).await?,
    };
    if !needed {
        return Ok(ReorgOutcome {
            version,
            changed: false,
        });
    }
    if let Some(expected) = expected_version
        && expected != version
    {
        return Err(StoreError::Conflict(format!(
            "the org is at version {version}, not {expected}: someone reorganised it meanwhile"
        )));
    }
    match change {
        Reorg::MoveEmployee {
            employee,
            new_manager,
        } => move_people(&mut tx, employee, new_manager, false, on).await?,
        Reorg::MoveTeam {
            manager,
            new_manager,
        } => move_people(&mut tx, manager, new_manager, true, on).await?,
        Reorg::MergeDepartments { from, into } => merge(&mut tx, from, into, on).await?,
    }
    sqlx::query("UPDATE org_meta SET version = version + 1 WHERE id = 1")
        .execute(&mut *tx)
        .await
        .map_err(from_sqlx)?;
    tx.commit().await.map_err(from_sqlx)?;
    Ok(ReorgOutcome {
        version: version + 1,
        changed: true,
    })
}

/// Whether moving `who` under `new_manager` changes anything; `NotFound` / `Refused` otherwise.
async fn check_move(
    tx: &mut Transaction<'static, Sqlite>,
    who: &EmployeeId,
    new_manager: &EmployeeId,
) -> Result<bool, StoreError> {
    let moved = place(tx, who).await?;
    let target = place(tx, new_manager).await?;
    if who == new_manager || target.path.starts_with(&moved.path) {
        return Err(StoreError::Refused(format!(
            "{who} cannot report to {new_manager}: {new_manager} is in {who}'s own team \
             (that would make a cycle)"
        )));
    }
    Ok(moved.manager.as_deref() != Some(new_manager.as_str()))
}

/// Whether merging `from` into `into` changes anything; `NotFound` / `Refused` otherwise.
async fn check_merge(
    tx: &mut Transaction<'static, Sqlite>,
    from: &DepartmentId,
    into: &DepartmentId,
) -> Result<bool, StoreError> {
    if from == into {
        return Err(StoreError::Refused(format!(
            "cannot merge department {from} into itself"
        )));
    }
    let exists = |id: &DepartmentId| {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM departments WHERE id = ?1")
            .bind(id.as_str().to_owned())
    };
    if exists(into).fetch_one(&mut **tx).await.map_err(from_sqlx)? == 0 {
        return Err(StoreError::NotFound(format!("department {into}")));
    }
    if exists(from).fetch_one(&mut **tx).await.map_err(from_sqlx)? == 0 {
        let merged: Option<String> =
            sqlx::query_scalar("SELECT into_id FROM department_merges WHERE from_id = ?1")
                .bind(from.as_str())
                .fetch_optional(&mut **tx)
                .await
                .map_err(from_sqlx)?;
        return match merged {
            Some(done) if done == into.as_str() => Ok(false),
            _ => Err(StoreError::NotFound(format!("department {from}"))),
        };
    }
    let inside: i64 = sqlx::query_scalar(
        "WITH RECURSIVE up (id, hops) AS (
             SELECT parent_id, 1 FROM departments WHERE id = ?1 AND parent_id IS NOT NULL
             UNION ALL
             SELECT d.parent_id, up.hops + 1 FROM departments d JOIN up ON d.id = up.id
             WHERE d.parent_id IS NOT NULL AND up.hops < ?3)
         SELECT count(*) FROM up WHERE id = ?2",
    )
    .bind(into.as_str())
    .bind(from.as_str())
    .bind(i64::from(crate::domain::Depth::MAX))
    .fetch_one(&mut **tx)
    .await
    .map_err(from_sqlx)?;
    if inside > 0 {
        return Err(StoreError::Refused(format!(
            "cannot merge {from} into {into}: {into} is inside {from} (that would make a cycle)"
        )));
    }
    Ok(true)
}

/// Moves `who` (with their team when `team`, else alone) under `new_manager`.
async fn move_people(
    tx: &mut Transaction<'static, Sqlite>,
    who: &EmployeeId,
    new_manager: &EmployeeId,
    team: bool,
    on: NaiveDate,
) -> Result<(), StoreError> {
    let moved = place(tx, who).await?;
    let target = place(tx, new_manager).await?;
    let since = on.to_string();
    if team {
        // Everyone in the team (who included) keeps the rest of their path below who.
        let new_path = format!("{}{}/", target.path, who);
        sqlx::query(
            "UPDATE employees SET path = ?1 || substr(path, length(?2) + 1), depth = depth + ?3
             WHERE path >= ?2 AND path < ?2 || '~'",
        )
        .bind(&new_path)
        .bind(&moved.path)
        .bind(target.depth + 1 - moved.depth)
        .execute(&mut **tx)
        .await
        .map_err(from_sqlx)?;
    } else {
        // who's reports now report to who's old manager; their teams move up one level.
        let old_manager = moved.manager.as_deref().ok_or_else(|| {
            StoreError::Refused(format!("{who} is the root and cannot move alone"))
        })?;
        let manager_path = &moved.path[..moved.path.len() - who.as_str().len() - 1];
        sqlx::query(
            "UPDATE employees SET manager_id = ?1, reports_since = ?2 WHERE manager_id = ?3",
        )
        .bind(old_manager)
        .bind(&since)
        .bind(who.as_str())
        .execute(&mut **tx)
        .await
        .map_err(from_sqlx)?;
        sqlx::query(
            "UPDATE employees SET path = ?1 || substr(path, length(?2) + 1), depth = depth - 1
             WHERE path > ?2 AND path < ?2 || '~'",
        )
        .bind(manager_path)
        .bind(&moved.path)
        .execute(&mut **tx)
        .await
        .map_err(from_sqlx)?;
        sqlx::query("UPDATE employees SET path = ?1, depth = ?2 WHERE id = ?3")
            .bind(format!("{}{}/", target.path, who))
            .bind(target.depth + 1)
            .bind(who.as_str())
            .execute(&mut **tx)
            .await
            .map_err(from_sqlx)?;
    }
    sqlx::query("UPDATE employees SET manager_id = ?1, reports_since = ?2 WHERE id = ?3")
        .bind(new_manager.as_str())
        .bind(&since)
        .bind(who.as_str())
        .execute(&mut **tx)
        .await
        .map_err(from_sqlx)?;
    Ok(())
}

async fn merge(
    tx: &mut Transaction<'static, Sqlite>,
    from: &DepartmentId,
    into: &DepartmentId,
    on: NaiveDate,
) -> Result<(), StoreError> {
    // A department keeps one head: from's head becomes a member when into has one.
    sqlx::query(
        "UPDATE employees SET role = 'member'
         WHERE department_id = ?1 AND role = 'head'
           AND EXISTS (SELECT 1 FROM employees WHERE department_id = ?2 AND role = 'head')",
    )
    .bind(from.as_str())
    .bind(into.as_str())
    .execute(&mut **tx)
    .await
    .map_err(from_sqlx)?;
    sqlx::query(
        "UPDATE employees SET department_id = ?2, member_since = ?3 WHERE department_id = ?1",
    )
    .bind(from.as_str())
    .bind(into.as_str())
    .bind(on.to_string())
    .execute(&mut **tx)
    .await
    .map_err(from_sqlx)?;
    sqlx::query("UPDATE departments SET parent_id = ?2 WHERE parent_id = ?1")
        .bind(from.as_str())
        .bind(into.as_str())
        .execute(&mut **tx)
        .await
        .map_err(from_sqlx)?;
    sqlx::query("DELETE FROM departments WHERE id = ?1")
        .bind(from.as_str())
        .execute(&mut **tx)
        .await
        .map_err(from_sqlx)?;
    sqlx::query(
        "INSERT INTO department_merges (from_id, into_id) VALUES (?1, ?2)
         ON CONFLICT (from_id) DO UPDATE SET into_id = excluded.into_id",
    )
    .bind(from.as_str())
    .bind(into.as_str())
    .execute(&mut **tx)
    .await
    .map_err(from_sqlx)?;
    Ok(())
}
